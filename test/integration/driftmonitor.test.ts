// The DriftMonitor against the real thing: serving processes on the bed (the fixture model and its
// reference), the bed's Prometheus scraping them every second, and the load driver sending inputs drawn
// from the reference, some features shifted on purpose. Each test serves its own model, so one test's
// traffic never lands in another's window.
import { readFileSync } from 'node:fs';
import { Manager, createLogger } from '../../operator/src/runtime/index.js';
import { driftMonitorController } from '../../operator/src/controllers/driftmonitor/controller.js';
import { trainingJobController } from '../../operator/src/controllers/trainingjob/controller.js';
import type { DriftMonitor, TrainingJob } from '../../operator/src/api/index.js';
import { condition, kubectl, kubeConfig, objectApi, useNamespace, waitFor } from '../harness/cluster.js';
import { prometheusUrl, promQuery, waitForKubeProxyEndpoints, waitUntil } from '../harness/dataplane.js';
import {
  deploymentReady,
  FIXTURE_REFERENCE,
  servingDeployment,
  servingService,
  useModelClaim,
} from '../harness/serving.js';
import { runLoad } from '../harness/load.js';
import { loadReference, referenceRows } from '../harness/inputs.js';

const ns = useNamespace('drift');
useModelClaim(ns, 'models', ['fraud']);
const reference = loadReference(FIXTURE_REFERENCE);
const features = (JSON.parse(readFileSync(FIXTURE_REFERENCE, 'utf8')) as { features: { name: string }[] }).features.map(
  (f) => f.name,
);
let manager: Manager;

beforeAll(async () => {
  manager = new Manager({ kubeConfig: kubeConfig(), logger: createLogger({ level: 'warn' }), metricsPort: 0 });
  manager.addController(trainingJobController());
  manager.addController(
    driftMonitorController({ prometheusUrl: prometheusUrl(), servingImage: 'unused', registry: manager.registry }),
  );
  await manager.start();
});
afterAll(() => manager.stop());

/** Serves `model` v1 from the fixture (one pod), marks its ModelVersion stable, and waits for Prometheus. */
async function serve(model: string): Promise<void> {
  await objectApi().create(
    servingDeployment({
      namespace: ns.name,
      model,
      version: 'v1',
      replicas: 1,
      claim: 'models',
      modelPath: 'fraud/model.onnx',
    }) as never,
  );
  await objectApi().create(servingService(ns.name, model, { 'modelops.dev/model': model }) as never);
  await objectApi().create({
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name: `${model}-v1`, namespace: ns.name },
    spec: { model, version: 'v1', artifact: { uri: 'pvc://models/fraud/model.onnx' } },
  } as never);
  // The hand-made Deployment stands in for what the ModelVersion controller would run; its role is set as
  // that controller would set it.
  const patched = await kubectl([
    'patch',
    'mv',
    `${model}-v1`,
    '-n',
    ns.name,
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"status":{"role":"stable","phase":"Serving"}}',
  ]);
  expect(patched.stderr).toBe('');
  await deploymentReady(ns.name, `${model}-v1`, 1);
  // A new Service refuses connections until kube-proxy has programmed its endpoint.
  await waitForKubeProxyEndpoints(ns.name, model, 1);
  // increase() needs a sample before the traffic: wait until Prometheus scrapes the pod's series.
  await waitUntil(
    () => promQuery(`modelops_reference_sample_count{namespace="${ns.name}",model="${model}"}`),
    (samples) => samples.length === 1,
    `Prometheus scraping ${model}`,
  );
}

/** Sends `requests` rows and waits until Prometheus has counted all of them. */
async function traffic(model: string, requests: number, shift: Record<string, number> = {}): Promise<void> {
  const report = await runLoad({
    target: { service: model, namespace: ns.name },
    model,
    rows: referenceRows(reference, { shift, seed: 11 }),
    inputName: reference.input.name,
    requests,
    concurrency: 8,
  });
  expect(report.byCode['200']).toBe(requests);
  await waitUntil(
    () => promQuery(`sum(modelops_prediction_score_count{namespace="${ns.name}",model="${model}"})`),
    (samples) => (samples[0]?.value ?? 0) >= requests,
    `Prometheus counting ${requests} predictions of ${model}`,
  );
}

function monitor(name: string, model: string, spec: Partial<DriftMonitor['spec']> = {}) {
  return objectApi().create({
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'DriftMonitor',
    metadata: { name, namespace: ns.name },
    spec: { model, intervalSeconds: 10, windowSeconds: 300, minSamples: 500, ...spec },
  } as never);
}

const evaluatedAfter = (name: string, after: string) =>
  waitFor<DriftMonitor>(
    `/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/driftmonitors`,
    (dm) => dm.metadata.name === name && (dm.status?.lastEvaluationTime ?? '') > after,
    `${name} evaluated after ${after}`,
    { timeoutMs: 60_000 },
  );
const severities = (dm: DriftMonitor) =>
  Object.fromEntries(dm.status!.versions![0]!.features!.map((f) => [f.name, f.severity]));

test('unshifted traffic stays below warning on every feature', async () => {
  await serve('steady');
  await traffic('steady', 1500);
  const start = new Date().toISOString();
  await monitor('steady-drift', 'steady');
  const dm = await evaluatedAfter('steady-drift', start);
  expect(dm.status!.phase).toBe('Healthy');
  const verdict = dm.status!.versions![0]!;
  expect(verdict.samples).toBeGreaterThanOrEqual(1500);
  // Every feature, and the prediction score, below the 0.1 warning.
  expect(verdict.features).toHaveLength(features.length + 1);
  for (const f of verdict.features!) expect([f.name, f.scores.PSI! < 0.1]).toEqual([f.name, true]);
  console.log(
    `unshifted: largest PSI ${Math.max(...verdict.features!.map((f) => f.scores.PSI!))} over ${verdict.samples} predictions`,
  );
});

test('traffic shifted on two features turns exactly those two critical at the first evaluation that sees it', async () => {
  await serve('shifted');
  const start = new Date().toISOString();
  await monitor('shifted-drift', 'shifted');
  const before = await evaluatedAfter('shifted-drift', start);
  expect(before.status!.phase).toBe('NotEnoughData');

  await traffic('shifted', 1500, { v3: 2, v7: 2 });
  const seen = new Date().toISOString();
  const dm = await evaluatedAfter('shifted-drift', seen);
  const scores = dm.status!.versions![0]!.features!;
  const others = scores.filter((f) => f.name !== 'v3' && f.name !== 'v7');
  console.log(
    `shifted: traffic counted by Prometheus at ${seen}, the next evaluation at ${dm.status!.lastEvaluationTime} ` +
      `(interval 10 s): ${JSON.stringify(scores.filter((f) => f.name === 'v3' || f.name === 'v7'))}; ` +
      `largest PSI of the other ${others.length} series ${Math.max(...others.map((f) => f.scores.PSI!))}`,
  );
  const critical = Object.entries(severities(dm))
    .filter(([, s]) => s === 'Critical')
    .map(([name]) => name);
  expect(critical.sort()).toEqual(['v3', 'v7']);
  expect(condition(dm as never, 'Drifted')).toMatchObject({ status: 'True', reason: 'Warning' });
});

test('one retraining run from real drift, and none again within the cooldown', async () => {
  // The shifted model's traffic is still in the window: a second monitor of it retrains.
  const start = new Date().toISOString();
  await monitor('shifted-retrain', 'shifted', {
    driftedShare: 0.05,
    actions: {
      retrain: {
        cooldownSeconds: 3600,
        template: {
          image: 'ghcr.io/modelops/training:0.1.0',
          dataset: { uri: 'synthetic://fraud?rows=1000&seed=8' },
          output: { uri: 'pvc://models/fraud/retrain' },
          register: { modelName: 'shifted', gate: [{ metric: 'val_auc', operator: '>=', threshold: 0.9 }] },
        },
      },
    },
  });
  const first = await evaluatedAfter('shifted-retrain', start);
  expect(first.status!.phase).toBe('Critical');
  expect(first.status!.activeTrainingJob).toBe('shifted-retrain-retrain-1');
  // Two more evaluations, still critical: the run is in progress or in its cooldown, never a second.
  const second = await evaluatedAfter('shifted-retrain', first.status!.lastEvaluationTime!);
  const third = await evaluatedAfter('shifted-retrain', second.status!.lastEvaluationTime!);
  expect(third.status!.phase).toBe('Critical');
  expect(['RunInProgress', 'Cooldown']).toContain(condition(third as never, 'Retraining')!.reason);
  const runs = await kubectl([
    'get',
    'tj',
    '-n',
    ns.name,
    '-l',
    'modelops.dev/driftmonitor=shifted-retrain',
    '-o',
    'json',
  ]);
  expect((JSON.parse(runs.stdout).items as TrainingJob[]).map((tj) => tj.metadata.name)).toEqual([
    'shifted-retrain-retrain-1',
  ]);
  console.log(
    `retraining: ${[first, second, third].map((d) => `${d.status!.lastEvaluationTime} ${d.status!.phase} ${condition(d as never, 'Retraining')?.reason}`).join('; ')}; runs: 1`,
  );
});

test('too little traffic says so', async () => {
  await serve('quiet');
  await traffic('quiet', 60);
  const start = new Date().toISOString();
  await monitor('quiet-drift', 'quiet');
  const dm = await evaluatedAfter('quiet-drift', start);
  expect(dm.status!.phase).toBe('NotEnoughData');
  expect(condition(dm as never, 'Drifted')).toMatchObject({
    status: 'Unknown',
    reason: 'NotEnoughData',
    message: expect.stringMatching(
      /^v1 \(stable\): \d+ predictions in the last 300s, fewer than minSamples 500: not judged$/,
    ),
  });
  // increase() extrapolates towards the window's edges, so the count is near the 60 sent, not exact.
  expect(dm.status!.versions![0]!.samples).toBeGreaterThanOrEqual(60);
  expect(dm.status!.versions![0]!.samples).toBeLessThan(500);
  expect(dm.status!.versions![0]!.features).toBeUndefined();
  console.log(`too little traffic: ${condition(dm as never, 'Drifted')!.message}`);
});
