// The DriftMonitor controller on the real API server, with the TrainingJob controller beside it: what
// it writes and creates when drift is found. Prometheus is stood in for by an in-process source whose
// answers each test chooses (the real Prometheus and serving pods are in driftmonitor.test.ts), so these
// tests pin the decisions: one retraining run, none again within the cooldown, the run's gate against the
// stable version, the canary rolled back once, and what status, Events and /metrics say.
import { Manager, createLogger } from '../../operator/src/runtime/index.js';
import { trainingJobController } from '../../operator/src/controllers/trainingjob/controller.js';
import { driftMonitorController } from '../../operator/src/controllers/driftmonitor/controller.js';
import type { PrometheusClient } from '../../operator/src/prometheus/index.js';
import type { DriftMonitor, ModelVersion, TrainingJob } from '../../operator/src/api/index.js';
import { condition, kubectl, kubeConfig, objectApi, useNamespace, waitFor } from '../harness/cluster.js';
import { createBoundClaim, deleteModelClaim } from '../harness/serving.js';

const ns = useNamespace('dm');
let manager: Manager;

const EDGES = ['-1', '-0.5', '0.5', '1', '+Inf'];
const CENTRED = [100, 200, 400, 200, 100];
const SHIFTED = [10, 50, 200, 400, 340];
const FEATURES = ['f0', 'f1', 'f2'];

/** What the stand-in Prometheus answers, per model version: live counts per feature (the rest centred). */
const live = new Map<string, { shifted: string[]; samples: number }>();

const cumulative = (counts: number[], extra: Record<string, string>) => {
  let sum = 0;
  return counts.map((c, i) => ({ labels: { ...extra, le: EDGES[i]! }, value: (sum += c) }));
};
const scale = (counts: number[], total: number) => counts.map((c) => (c * total) / 1000);

const prometheus: PrometheusClient = {
  url: 'http://prometheus.test:9090',
  async queryRange() {
    throw new Error('the DriftMonitor makes instant queries only');
  },
  async query(expr) {
    const version = /version="([^"]+)"/.exec(expr)![1]!;
    const model = /model="([^"]+)"/.exec(expr)![1]!;
    const state = live.get(`${model}/${version}`) ?? { shifted: [], samples: 0 };
    const byFeature = (counts: (f: string) => number[]) =>
      FEATURES.flatMap((feature) => cumulative(counts(feature), { feature }));
    if (expr.includes('modelops_reference_feature_cumulative_count')) return byFeature(() => CENTRED);
    if (expr.includes('modelops_reference_prediction_score_cumulative_count')) return cumulative(CENTRED, {});
    if (expr.includes('modelops_feature_value_bucket'))
      return byFeature((f) => scale(state.shifted.includes(f) ? SHIFTED : CENTRED, state.samples));
    if (expr.includes('modelops_prediction_score_bucket')) return cumulative(scale(CENTRED, state.samples), {});
    throw new Error(`unexpected query ${expr}`);
  },
};

beforeAll(async () => {
  // The retraining runs write to pvc://models/...: a statically bound volume, as an admin would provide.
  await createBoundClaim(ns.name, 'models', { path: '/srv/models', accessMode: 'ReadWriteMany' });
  manager = new Manager({ kubeConfig: kubeConfig(), logger: createLogger({ level: 'warn' }), metricsPort: 0 });
  manager.addController(trainingJobController());
  manager.addController(
    driftMonitorController(
      { prometheusUrl: 'http://prometheus.test:9090', servingImage: 'unused', registry: manager.registry },
      { prometheus: () => prometheus },
    ),
  );
  await manager.start();
});
afterAll(async () => {
  await manager.stop();
  await deleteModelClaim(ns.name, 'models');
});

const REPORT = {
  metrics: { val_auc: 0.95, val_loss: 0.05 },
  artifact: { uri: '/output/retrain/model.onnx', digest: `sha256:${'ab'.repeat(32)}` },
  reference: { uri: '/output/retrain/reference.json' },
};

async function servingVersion(model: string, version: string, status: ModelVersion['status'], valAuc = 0.9) {
  const name = `${model}-${version}`;
  await objectApi().create({
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name, namespace: ns.name },
    spec: {
      model,
      version,
      artifact: { uri: `pvc://models/${model}/${version}/model.onnx` },
      lineage: { metrics: { val_auc: valAuc } },
    },
  } as never);
  // No ModelVersion controller runs here: the roles are set as it would set them.
  const patched = await kubectl([
    'patch',
    'mv',
    name,
    '-n',
    ns.name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
  expect(patched.stderr).toBe('');
}

function driftMonitor(name: string, model: string, spec: Partial<DriftMonitor['spec']>): DriftMonitor {
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'DriftMonitor',
    metadata: { name, namespace: ns.name },
    spec: { model, intervalSeconds: 10, windowSeconds: 60, minSamples: 500, driftedShare: 0.5, ...spec },
  };
}

const dmPath = () => `/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/driftmonitors`;
const waitForDm = (name: string, predicate: (dm: DriftMonitor) => boolean, what: string) =>
  waitFor<DriftMonitor>(dmPath(), (dm) => dm.metadata.name === name && predicate(dm), `${name}: ${what}`, {
    timeoutMs: 60_000,
  });
const events = async (name: string) => {
  const list = await kubectl(['get', 'events.events.k8s.io', '-n', ns.name, '-o', 'json']);
  return (
    JSON.parse(list.stdout).items as { regarding?: { name?: string }; reason: string; type: string; note: string }[]
  ).filter((e) => e.regarding?.name === name);
};
const trainingJobs = async (monitor: string) => {
  const list = await kubectl(['get', 'tj', '-n', ns.name, '-l', `modelops.dev/driftmonitor=${monitor}`, '-o', 'json']);
  return JSON.parse(list.stdout).items as TrainingJob[];
};

test('a breach starts exactly one retraining run; it must beat the stable version, registers, and none follows within the cooldown', async () => {
  await servingVersion('fraud', 'v1', { role: 'stable', phase: 'Serving' });
  live.set('fraud/v1', { shifted: ['f0', 'f2'], samples: 2000 });
  await objectApi().create(
    driftMonitor('fraud-drift', 'fraud', {
      actions: {
        retrain: {
          cooldownSeconds: 3600,
          template: {
            image: 'ghcr.io/modelops/training:0.1.0',
            dataset: { uri: 'synthetic://fraud?rows=1000&seed=8' },
            output: { uri: 'pvc://models/fraud/retrain' },
            podMetadata: { annotations: { 'sim.modelops.dev/message': JSON.stringify(REPORT) } },
            register: { modelName: 'fraud', gate: [{ metric: 'val_auc', operator: '>=', threshold: 0.8 }] },
          },
        },
      },
    }) as never,
  );

  const critical = await waitForDm('fraud-drift', (dm) => dm.status?.phase === 'Critical', 'Critical');
  const verdict = critical.status!.versions![0]!;
  expect(verdict).toMatchObject({ version: 'v1', role: 'stable', verdict: 'Critical', samples: 2000 });
  expect(
    verdict
      .features!.filter((f) => f.severity === 'Critical')
      .map((f) => f.name)
      .sort(),
  ).toEqual(['f0', 'f2']);
  expect(condition(critical as never, 'Drifted')).toMatchObject({ status: 'True', reason: 'Critical' });

  // The run: owned by the monitor, gated on the stable version, run by the TrainingJob controller.
  const [run, ...others] = await trainingJobs('fraud-drift');
  expect(others).toEqual([]);
  expect(run!.metadata.name).toBe('fraud-drift-retrain-1');
  expect(run!.metadata.ownerReferences).toEqual([
    expect.objectContaining({ kind: 'DriftMonitor', name: 'fraud-drift', controller: true }),
  ]);
  expect(run!.spec.register?.mustBeatStable).toEqual({ metric: 'val_auc', higherIsBetter: true });
  expect(run!.spec.output.uri).toBe('pvc://models/fraud/retrain/fraud-drift-retrain-1');

  // The run succeeds, beats the stable version's 0.9 and registers; the monitor follows it there.
  const registered = await waitForDm(
    'fraud-drift',
    (dm) => dm.status?.actions?.[0]?.outcome === 'registered fraud-fraud-drift-retrain-1',
    'the run registered',
  );
  expect(registered.status!.actions).toEqual([
    expect.objectContaining({
      type: 'Retrain',
      trainingJob: 'fraud-drift-retrain-1',
      modelVersion: 'fraud-fraud-drift-retrain-1',
    }),
  ]);
  const mv = (await objectApi().read({
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name: 'fraud-fraud-drift-retrain-1', namespace: ns.name },
  })) as unknown as ModelVersion;
  expect(mv.metadata.labels).toMatchObject({ 'modelops.dev/driftmonitor': 'fraud-drift' });
  expect(mv.spec.lineage).toMatchObject({ trainingJob: 'fraud-drift-retrain-1', metrics: { val_auc: 0.95 } });

  // Still critical at the next evaluations, but within the cooldown: no second run.
  const seen = registered.status!.lastEvaluationTime!;
  const later = await waitForDm(
    'fraud-drift',
    (dm) => dm.status!.lastEvaluationTime! > seen && condition(dm as never, 'Retraining')?.reason === 'Cooldown',
    'a later evaluation in the cooldown',
  );
  expect(later.status!.phase).toBe('Critical');
  expect(condition(later as never, 'Retraining')!.message).toMatch(
    /the last run \(fraud-drift-retrain-1\) started at .*; the next may start at/,
  );
  expect(await trainingJobs('fraud-drift')).toHaveLength(1);
  const said = await events('fraud-drift');
  expect(said.filter((e) => e.reason === 'RetrainingStarted')).toHaveLength(1);
  expect(said.filter((e) => e.reason === 'DriftCritical')).toEqual([expect.objectContaining({ type: 'Warning' })]);
});

test('a canary in breach is rolled back through its modelops.dev/abort annotation, once', async () => {
  await servingVersion('churn', 'v1', { role: 'stable', phase: 'Serving' });
  await servingVersion('churn', 'v2', { role: 'canary', phase: 'Canary' });
  live.set('churn/v1', { shifted: [], samples: 1500 });
  live.set('churn/v2', { shifted: ['f1', 'f2'], samples: 600 });
  await objectApi().create(
    driftMonitor('churn-drift', 'churn', { versions: 'Both', actions: { rollbackCanary: true } }) as never,
  );

  const aborted = await waitFor<ModelVersion>(
    `/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/modelversions`,
    (mv) => mv.metadata.name === 'churn-v2' && mv.metadata.annotations?.['modelops.dev/abort'] !== undefined,
    'churn-v2 annotated modelops.dev/abort',
  );
  expect(aborted.metadata.annotations!['modelops.dev/abort']).toMatch(/^driftmonitor\/churn-drift: f[12] PSI=0\.9861$/);
  const dm = await waitForDm('churn-drift', (d) => (d.status?.actions?.length ?? 0) > 0, 'the rollback recorded');
  expect(dm.status!.versions!.map((v) => [v.version, v.role, v.verdict])).toEqual([
    ['v1', 'stable', 'None'],
    ['v2', 'canary', 'Critical'],
  ]);
  expect(dm.status!.actions).toEqual([expect.objectContaining({ type: 'RollbackCanary', modelVersion: 'churn-v2' })]);

  // The next evaluation finds the canary still in breach (no ModelVersion controller acts here) and
  // does not ask again.
  const seen = dm.status!.lastEvaluationTime!;
  const next = await waitForDm('churn-drift', (d) => d.status!.lastEvaluationTime! > seen, 'the next evaluation');
  expect(next.status!.actions).toHaveLength(1);
  expect((await events('churn-drift')).filter((e) => e.reason === 'CanaryRollbackRequested')).toHaveLength(1);
});

test('too little traffic says so and is not judged', async () => {
  await servingVersion('quiet', 'v1', { role: 'stable', phase: 'Serving' });
  live.set('quiet/v1', { shifted: ['f0', 'f1', 'f2'], samples: 40 });
  await objectApi().create(driftMonitor('quiet-drift', 'quiet', {}) as never);
  const dm = await waitForDm('quiet-drift', (d) => d.status?.phase !== undefined, 'evaluated');
  expect(dm.status!.phase).toBe('NotEnoughData');
  expect(condition(dm as never, 'Drifted')).toMatchObject({
    status: 'Unknown',
    reason: 'NotEnoughData',
    message: 'v1 (stable): 40 predictions in the last 60s, fewer than minSamples 500: not judged',
  });
  expect(dm.status!.versions![0]!.features).toBeUndefined();
});

test('a model that does not serve yet is Pending, saying so', async () => {
  await objectApi().create(driftMonitor('nothing-drift', 'nothing', {}) as never);
  const dm = await waitForDm('nothing-drift', (d) => d.status?.phase !== undefined, 'evaluated');
  expect(dm.status!.phase).toBe('Pending');
  expect(condition(dm as never, 'Ready')).toMatchObject({
    status: 'False',
    reason: 'NoServingVersion',
    message: 'no serving version of model nothing to watch',
  });
});

test("the scores are on the operator's /metrics", async () => {
  await waitForDm('fraud-drift', (d) => d.status?.phase === 'Critical', 'Critical');
  const text = await (await fetch(`http://127.0.0.1:${manager.ports.metrics}/metrics`)).text();
  expect(text).toMatch(
    new RegExp(
      `modelops_drift_score\\{namespace="${ns.name}",driftmonitor="fraud-drift",model="fraud",version="v1",feature="f0",method="PSI"\\} 0\\.9861`,
    ),
  );
  expect(text).toMatch(
    /modelops_drift_score\{[^}]*driftmonitor="fraud-drift"[^}]*feature=":prediction",method="PSI"\} 0\n/,
  );
});
