// The Argo CD health checks in examples/argocd/argocd-cm.yaml, run with Lua 5.1 (the dialect of
// Argo CD's gopher-lua) on objects as the operator leaves them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';

const config = load(readFileSync(new URL('../../examples/argocd/argocd-cm.yaml', import.meta.url), 'utf8')) as {
  data: Record<string, string>;
};
const script = (kind: string) => config.data[`resource.customizations.health.modelops.dev_${kind}`]!;

/** A JSON value as a Lua table constructor. */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  if (typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`)
      .join(', ')}}`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function health(kind: string, obj: object): { status: string; message: string } {
  const program = `obj = ${toLua(obj)}\nlocal hs = (function()\n${script(kind)}\nend)()\nio.write(hs.status, "\\t", hs.message or "")`;
  const [status, message] = execFileSync('lua5.1', ['-e', program], { encoding: 'utf8' }).split('\t');
  return { status: status!, message: message! };
}

const cond = (type: string, status: string, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});
const tj = (generation: number, status?: object) => ({
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'TrainingJob',
  metadata: { name: 't', generation },
  status,
});

describe('TrainingJob health', () => {
  test.each([
    ['no status yet', 'Progressing', 'waiting for the operator', tj(1)],
    [
      'a generation not yet observed',
      'Progressing',
      'waiting for the operator',
      tj(2, { observedGeneration: 1, phase: 'Succeeded' }),
    ],
    [
      'running',
      'Progressing',
      '1 training pod(s) running',
      tj(1, {
        observedGeneration: 1,
        phase: 'Running',
        conditions: [cond('Running', 'True', 'Running', '1 training pod(s) running')],
      }),
    ],
    [
      'unschedulable',
      'Progressing',
      '0/5 nodes are available',
      tj(1, {
        observedGeneration: 1,
        phase: 'Pending',
        conditions: [cond('Running', 'False', 'Unschedulable', '0/5 nodes are available')],
      }),
    ],
    ['suspended', 'Suspended', 'the run is suspended', tj(1, { observedGeneration: 1, phase: 'Suspended' })],
    [
      'succeeded and registered',
      'Healthy',
      'registered ModelVersion fraud-v1',
      tj(1, {
        observedGeneration: 1,
        phase: 'Succeeded',
        conditions: [
          cond('Succeeded', 'True', 'Completed', 'done'),
          cond('Registered', 'True', 'GatePassed', 'registered ModelVersion fraud-v1'),
        ],
      }),
    ],
    [
      'succeeded, no gate',
      'Healthy',
      'training completed and reported its metrics',
      tj(1, {
        observedGeneration: 1,
        phase: 'Succeeded',
        conditions: [cond('Succeeded', 'True', 'Completed', 'training completed and reported its metrics')],
      }),
    ],
    [
      'refused by the gate',
      'Degraded',
      'gate failed: val_auc 0.71 is not >= 0.9',
      tj(1, {
        observedGeneration: 1,
        phase: 'Succeeded',
        conditions: [cond('Registered', 'False', 'GateRefused', 'gate failed: val_auc 0.71 is not >= 0.9')],
      }),
    ],
    [
      'failed',
      'Degraded',
      'the training container ran out of memory',
      tj(1, {
        observedGeneration: 1,
        phase: 'Failed',
        conditions: [cond('Failed', 'True', 'OOMKilled', 'the training container ran out of memory')],
      }),
    ],
  ])('%s → %s', (_case, status, message, obj) => {
    expect(health('TrainingJob', obj)).toEqual({ status, message });
  });
});

describe('ModelVersion health', () => {
  const mv = (status: object, generation = 1) => ({
    metadata: { generation },
    status: { observedGeneration: 1, ...status },
  });
  test.each([
    ['no status yet', 'Progressing', 'waiting for the operator', { metadata: { generation: 1 } }],
    ['a generation not yet observed', 'Progressing', 'waiting for the operator', mv({ phase: 'Serving' }, 2)],
    [
      'deploying',
      'Progressing',
      'starting its pods',
      mv({ phase: 'Deploying', conditions: [cond('Progressing', 'True', 'Deploying', 'starting its pods')] }),
    ],
    [
      'canary walking its steps',
      'Progressing',
      'step 2 of 4: 25 %; analysis Pass',
      mv({
        phase: 'Canary',
        conditions: [
          cond('Ready', 'True', 'Canary', 'serving 25 % of fraud as the canary'),
          cond('Progressing', 'True', 'Analysing', 'step 2 of 4: 25 %; analysis Pass'),
          cond('Degraded', 'False', 'AsExpected', 'nothing holds it back'),
        ],
      }),
    ],
    [
      'canary held while Prometheus is unreachable',
      'Progressing',
      'held: Prometheus http://p: unreachable',
      mv({
        phase: 'Canary',
        conditions: [
          cond('Progressing', 'True', 'Analysing', 'step 1 of 4: 5 %; analysis Error'),
          cond('Degraded', 'True', 'MetricsUnavailable', 'Prometheus http://p: unreachable'),
        ],
      }),
    ],
    [
      'paused',
      'Suspended',
      'paused at step 2 of 4: 25 % (spec.serving.rollout.paused)',
      mv({
        phase: 'Paused',
        conditions: [
          cond('Progressing', 'False', 'Paused', 'paused at step 2 of 4: 25 % (spec.serving.rollout.paused)'),
        ],
      }),
    ],
    [
      'serving as stable',
      'Healthy',
      'serving 100 % of fraud as the stable version (2/2 pods ready)',
      mv({
        phase: 'Serving',
        conditions: [cond('Ready', 'True', 'Serving', 'serving 100 % of fraud as the stable version (2/2 pods ready)')],
      }),
    ],
    [
      'stable without ready pods',
      'Degraded',
      'the stable version has no ready pod (0/2 pods ready)',
      mv({
        phase: 'Serving',
        conditions: [cond('Ready', 'False', 'NoReadyPods', 'the stable version has no ready pod (0/2 pods ready)')],
      }),
    ],
    [
      'stable asking for Gateway API on a cluster without it',
      'Degraded',
      'the cluster does not serve HTTPRoutes',
      mv({
        phase: 'Serving',
        conditions: [
          cond('Ready', 'True', 'Serving', 'serving'),
          cond('Degraded', 'True', 'GatewayAPIUnavailable', 'the cluster does not serve HTTPRoutes'),
        ],
      }),
    ],
    [
      'held as an experiment',
      'Healthy',
      'held as an experiment (20 % of requests)',
      mv({
        phase: 'Experiment',
        conditions: [cond('Progressing', 'False', 'Experiment', 'held as an experiment (20 % of requests)')],
      }),
    ],
    [
      'retired after a promotion',
      'Healthy',
      'retired',
      mv({ phase: 'Retired', conditions: [cond('Progressing', 'False', 'Retired', 'retired')] }),
    ],
    [
      'rolled back',
      'Degraded',
      'error-rate: 31 % > 1 %',
      mv({
        phase: 'RolledBack',
        conditions: [
          cond('Ready', 'False', 'RolledBack', 'rolled back: no traffic'),
          cond('RolledBack', 'True', 'AnalysisFailed', 'error-rate: 31 % > 1 %'),
        ],
      }),
    ],
    [
      'a duplicate version',
      'Degraded',
      'version v1 of fraud is already ModelVersion fraud-a',
      mv({
        phase: 'Failed',
        conditions: [
          cond('Degraded', 'True', 'DuplicateVersion', 'version v1 of fraud is already ModelVersion fraud-a'),
        ],
      }),
    ],
  ])('%s → %s', (_case, status, message, obj) => {
    expect(health('ModelVersion', obj)).toEqual({ status, message });
  });
});

describe('DriftMonitor health', () => {
  const dm = (status: object) => ({ metadata: { generation: 1 }, status: { observedGeneration: 1, ...status } });
  test.each([
    ['no drift', 'Healthy', 'amount PSI=0.04', dm({ phase: 'Healthy', summary: 'amount PSI=0.04' })],
    [
      'drift breached',
      'Degraded',
      'v1: 2 of 30 features critical (amount PSI=0.31)',
      dm({
        phase: 'Critical',
        conditions: [
          cond('Ready', 'True', 'Evaluated', 'evaluated v1'),
          cond('Drifted', 'True', 'Critical', 'v1: 2 of 30 features critical (amount PSI=0.31)'),
        ],
      }),
    ],
    [
      'too little traffic',
      'Progressing',
      'not enough traffic in the window to judge drift',
      dm({ phase: 'NotEnoughData' }),
    ],
    ['not evaluated yet', 'Progressing', 'waiting for the first evaluation', { metadata: { generation: 1 } }],
  ])('%s → %s', (_case, status, message, obj) => {
    expect(health('DriftMonitor', obj)).toEqual({ status, message });
  });
});
