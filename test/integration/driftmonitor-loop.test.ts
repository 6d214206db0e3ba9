// The loop closed, on the bed's data plane, with all three controllers: a first TrainingJob trains the fraud
// model for real (training-image/ on this CPU, see test/harness/training.ts) and registers v1, which serves
// (real serving processes, Prometheus, kube-proxy); clients send transactions from the synthetic data's
// world; the world moves (every component by one standard deviation, amounts by e); the DriftMonitor finds
// it, starts one retraining run on data from the moved world; that run trains for real, beats the stable
// version's val_auc at its gate and registers a new ModelVersion with its lineage; the new version rolls
// out as a canary, is promoted, and the monitor then judges it against its own training reference. Each
// step is asserted in order; the timeline is printed, never asserted.
import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { Manager, createLogger } from '../../operator/src/runtime/index.js';
import { driftMonitorController } from '../../operator/src/controllers/driftmonitor/controller.js';
import { modelVersionController } from '../../operator/src/controllers/modelversion/controller.js';
import { trainingJobController } from '../../operator/src/controllers/trainingjob/controller.js';
import type { DriftMonitor, ModelVersion, TrainingJob } from '../../operator/src/api/index.js';
import { condition, kubeConfig, kubectl, useNamespace, waitFor } from '../harness/cluster.js';
import { prometheusUrl } from '../harness/dataplane.js';
import { csvRows } from '../harness/inputs.js';
import { startLoad, type LoadRun } from '../harness/load.js';
import { useModelClaim } from '../harness/serving.js';
import { repoRoot } from '../harness/paths.js';
import { startTrainingRunner, TRAIN_FOR_REAL, type TrainingRunner } from '../harness/training.js';

// Two real training runs and a whole rollout on 2 shared cores: every wait carries its own timeout.
jest.setTimeout(900_000);
const ns = useNamespace('loop');
useModelClaim(ns, 'models', []);

const FEATURES = [...Array.from({ length: 28 }, (_, i) => `v${i + 1}`), 'amount', 'hour'];
const GROUP = '/apis/modelops.dev/v1alpha1/namespaces';
/** The canary's steps and analysis, short for a test (a user's would hold minutes). */
const ROLLOUT = {
  steps: [
    { weight: 50, pauseSeconds: 5 },
    { weight: 100, pauseSeconds: 5 },
  ],
  analysis: {
    intervalSeconds: 5,
    windowSeconds: 10,
    failureLimit: 2,
    minSamples: 20,
    latencyP99: { maxRatioToStable: 4 },
    // A model retrained because the world moved is expected to predict unlike the stale stable version:
    // its predictions are judged against its own training reference by the DriftMonitor instead.
    predictionShift: { enabled: false },
  },
};

/** Transactions from the synthetic data's world (the training image's generator), as CSV. */
function world(shift: number, seed: number): string {
  const out = join(mkdtempSync(join(tmpdir(), 'modelops-loop-')), `world-${shift}.csv`);
  execFileSync(
    '/usr/bin/python3',
    ['-m', 'modelops_train.data', '--rows', '4000', '--seed', String(seed), '--shift', String(shift), '--out', out],
    { env: { ...process.env, PYTHONPATH: `${repoRoot}/training-image` } },
  );
  return out;
}

let manager: Manager;
let runner: TrainingRunner;
let load: LoadRun | undefined;
const timeline: [string, string][] = [];
const mark = (what: string, at = new Date().toISOString()) => timeline.push([at, what]);

beforeAll(async () => {
  runner = await startTrainingRunner(ns.name, (run) => {
    mark(
      `training run of pod ${run.pod} started (exit ${run.exitCode} after ${run.finishedAt.getTime() - run.startedAt.getTime()} ms)`,
      run.startedAt.toISOString(),
    );
  });
  manager = new Manager({
    kubeConfig: kubeConfig(),
    logger: createLogger({ level: 'warn' }),
    metricsPort: 0,
    healthPort: 0,
    namespaces: [ns.name],
  });
  const settings = { prometheusUrl: prometheusUrl(), servingImage: 'ghcr.io/modelops/serving:test' };
  manager.addController(trainingJobController());
  manager.addController(modelVersionController(settings));
  manager.addController(driftMonitorController({ ...settings, registry: manager.registry }));
  await manager.start();
});
afterAll(async () => {
  await load?.stop();
  await kubectl(['delete', 'mv', '--all', '-n', ns.name, '--wait=true', '--timeout=60s']);
  await manager.stop();
  await runner.stop();
  console.log(
    `the loop's timeline:\n${timeline
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([t, w]) => `  ${t}  ${w}`)
      .join('\n')}`,
  );
});

const apply = async (obj: object) => {
  const result = await kubectl(['apply', '--server-side', '-n', ns.name, '-f', '-'], dump(obj));
  if (result.code !== 0) throw new Error(result.stderr);
};
const waitForObject = <T extends object>(plural: string, name: string, predicate: (o: T) => boolean, what: string) =>
  waitFor<T>(`${GROUP}/${ns.name}/${plural}`, predicate, `${plural}/${name}: ${what}`, {
    fieldSelector: `metadata.name=${name}`,
    timeoutMs: 300_000,
  });
const isTrue = (type: string) => (o: object) => condition(o as never, type)?.status === 'True';

function clients(csv: string): LoadRun {
  return startLoad({
    target: { service: 'fraud', namespace: ns.name },
    model: 'fraud',
    inputName: 'features',
    rows: csvRows(csv, FEATURES, { seed: 5 }),
    ratePerSecond: 25,
    concurrency: 4,
  });
}

test('drift → one retraining run → its gate against stable → a new version → canary → promoted, with lineage', async () => {
  const [calm, moved] = [world(0, 21), world(1, 22)];

  // v1: trained for real on the world as it was (a small, quick model), registered by its run.
  await apply({
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'TrainingJob',
    metadata: { name: 'fraud-initial' },
    spec: {
      image: 'ghcr.io/modelops/training:0.1.0',
      dataset: { uri: 'synthetic://fraud?rows=10000&seed=1', version: 'calm' },
      hyperparameters: { epochs: '1', batch_size: '256', hidden: '32' },
      output: { uri: 'pvc://models/fraud/initial' },
      podMetadata: { annotations: TRAIN_FOR_REAL },
      register: {
        modelName: 'fraud',
        version: 'v1',
        gate: [{ metric: 'val_auc', operator: '>=', threshold: 0.8 }],
        serving: { replicas: 1, rollout: ROLLOUT },
      },
    },
  });
  const v1 = await waitForObject<ModelVersion>('modelversions', 'fraud-v1', isTrue('Ready'), 'Ready');
  mark('fraud-v1 serving (stable)');
  expect(v1.status).toMatchObject({ role: 'stable', phase: 'Serving' });
  const v1Auc = v1.spec.lineage!.metrics!.val_auc!;

  load = clients(calm);
  await apply({
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'DriftMonitor',
    metadata: { name: 'fraud-drift' },
    spec: {
      model: 'fraud',
      versions: 'Both',
      intervalSeconds: 10,
      windowSeconds: 60,
      minSamples: 500,
      driftedShare: 0.1,
      actions: {
        rollbackCanary: true,
        retrain: {
          cooldownSeconds: 3600,
          template: {
            image: 'ghcr.io/modelops/training:0.1.0',
            // Fresh data from the world as it is now.
            dataset: { uri: 'synthetic://fraud?rows=20000&seed=2&shift=1', version: 'moved' },
            hyperparameters: { epochs: '3', batch_size: '256', hidden: '64' },
            output: { uri: 'pvc://models/fraud/retrain' },
            podMetadata: { annotations: TRAIN_FOR_REAL },
            register: {
              modelName: 'fraud',
              gate: [{ metric: 'val_auc', operator: '>=', threshold: 0.9 }],
              serving: { replicas: 1, rollout: ROLLOUT },
            },
          },
        },
      },
    },
  });
  const calmVerdict = await waitForObject<DriftMonitor>(
    'driftmonitors',
    'fraud-drift',
    (dm) => dm.status?.phase === 'Healthy',
    'Healthy on the calm world',
  );
  mark('fraud-drift: Healthy on the calm world');
  const calmScores = calmVerdict.status!.versions![0]!.features!;
  console.log(
    `calm world: largest PSI ${Math.max(...calmScores.map((f) => f.scores.PSI!))} over ${calmVerdict.status!.versions![0]!.samples} predictions`,
  );

  // The world moves.
  await load.stop();
  load = clients(moved);
  mark('drift injected: clients send the moved world');
  const critical = await waitForObject<DriftMonitor>(
    'driftmonitors',
    'fraud-drift',
    (dm) => dm.status?.phase === 'Critical',
    'Critical',
  );
  mark('fraud-drift: Critical', critical.status!.lastEvaluationTime);
  expect(critical.status!.versions![0]).toMatchObject({ version: 'v1', role: 'stable', verdict: 'Critical' });

  // Exactly one retraining run, from the monitor's template, gated to beat the stable version.
  const run = await waitForObject<TrainingJob>(
    'trainingjobs',
    'fraud-drift-retrain-1',
    isTrue('Registered'),
    'registered',
  );
  mark(
    `fraud-drift-retrain-1 registered ${run.status!.modelVersion} (val_auc ${run.status!.metrics!.val_auc} > v1's ${v1Auc})`,
  );
  expect(run.metadata.ownerReferences).toEqual([
    expect.objectContaining({ kind: 'DriftMonitor', name: 'fraud-drift' }),
  ]);
  expect(run.spec.register!.mustBeatStable).toEqual({ metric: 'val_auc', higherIsBetter: true });
  expect(run.status!.metrics!.val_auc).toBeGreaterThan(v1Auc);
  expect(run.status!.gateMessage).toMatch(/val_auc/);

  // The new version: lineage back to the run and the monitor, its own reference, a canary, promoted.
  const name = run.status!.modelVersion!;
  expect(name).toBe('fraud-fraud-drift-retrain-1');
  const canary = await waitForObject<ModelVersion>(
    'modelversions',
    name,
    (mv) => mv.status?.role === 'canary',
    'canary',
  );
  mark(`${name}: canary`);
  expect(canary.metadata.labels).toMatchObject({ 'modelops.dev/driftmonitor': 'fraud-drift' });
  expect(canary.spec.lineage).toMatchObject({
    trainingJob: 'fraud-drift-retrain-1',
    datasetUri: 'synthetic://fraud?rows=20000&seed=2&shift=1',
    metrics: { val_auc: run.status!.metrics!.val_auc },
  });
  expect(canary.spec.reference!.uri).toBe('pvc://models/fraud/retrain/fraud-drift-retrain-1/reference.json');
  const promoted = await waitForObject<ModelVersion>('modelversions', name, isTrue('Promoted'), 'Promoted');
  mark(`${name}: promoted`);
  expect(promoted.status).toMatchObject({ role: 'stable', phase: 'Serving' });

  // The monitor follows its run to the version's outcome, and judges the new stable on its own reference.
  const settled = await waitForObject<DriftMonitor>(
    'driftmonitors',
    'fraud-drift',
    (dm) =>
      dm.status?.versions?.length === 1 &&
      dm.status.versions[0]!.version === 'fraud-drift-retrain-1' &&
      dm.status.phase === 'Healthy',
    'the new stable judged Healthy',
  );
  mark('fraud-drift: Healthy on the new stable', settled.status!.lastEvaluationTime);
  expect(settled.status!.actions).toEqual([
    expect.objectContaining({ type: 'Retrain', trainingJob: 'fraud-drift-retrain-1', modelVersion: name }),
  ]);
  const tjs = await kubectl(['get', 'tj', '-n', ns.name, '-l', 'modelops.dev/driftmonitor=fraud-drift', '-o', 'name']);
  expect(tjs.stdout.trim().split('\n')).toEqual(['trainingjob.modelops.dev/fraud-drift-retrain-1']);

  // Every step in `kubectl get modelops` and in Events.
  const table = await kubectl(['get', 'modelops', '-n', ns.name]);
  console.log(`kubectl get modelops:\n${table.stdout}`);
  expect(table.stdout).toMatch(/driftmonitor.modelops.dev\/fraud-drift\s/);
  expect(table.stdout).toMatch(/trainingjob.modelops.dev\/fraud-drift-retrain-1\s.*Succeeded/);
  expect(table.stdout).toMatch(/modelversion.modelops.dev\/fraud-fraud-drift-retrain-1\s.*Serving/);
  const list = await kubectl(['get', 'events.events.k8s.io', '-n', ns.name, '-o', 'json']);
  const events = (
    JSON.parse(list.stdout).items as {
      eventTime?: string;
      regarding: { kind: string; name: string };
      reason: string;
      note: string;
    }[]
  )
    .filter((e) => e.eventTime && ['DriftMonitor', 'TrainingJob', 'ModelVersion'].includes(e.regarding.kind))
    .sort((a, b) => a.eventTime!.localeCompare(b.eventTime!));
  console.log(
    `Events:\n${events.map((e) => `  ${e.eventTime} ${e.regarding.kind}/${e.regarding.name} ${e.reason}: ${e.note}`).join('\n')}`,
  );
  // Each step's Event, in the loop's order (Events of one pass may share a millisecond).
  const times = [
    ['fraud-drift', 'DriftCritical'],
    ['fraud-drift', 'RetrainingStarted'],
    ['fraud-drift-retrain-1', 'Registered'],
    [name, 'CanaryStarted'],
    [name, 'Promoted'],
  ].map(([object, reason]) => {
    const event = events.find((e) => e.regarding.name === object && e.reason === reason);
    expect([object, reason, event !== undefined]).toEqual([object, reason, true]);
    return event!.eventTime!;
  });
  expect([...times].sort()).toEqual(times);
});
