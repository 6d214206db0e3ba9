// The ModelVersion controller on the real kube-apiserver: what server-side apply, owner references,
// garbage collection, finalizers and printer columns really do with its objects. The metrics come from a
// stand-in Prometheus HTTP API the test scripts (per version: requests, errors, p99); the real Prometheus,
// serving processes and load are in modelversion-dataplane.test.ts.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { Manager, createLogger } from '../../operator/src/runtime/index.js';
import { modelVersionController } from '../../operator/src/controllers/modelversion/controller.js';
import type { ModelVersion, ModelVersionSpec } from '../../operator/src/api/index.js';
import { condition, kubeConfig, kubectl, objectApi, useNamespace, waitFor, waitForGone } from '../harness/cluster.js';
import {
  StandInPrometheus,
  createModelsClaim,
  deleteLastVersion,
  deleteModelsClaim,
  ensureGatewayApi,
} from './modelversion.helpers.js';

const ns = useNamespace('mv');

const prometheus = new StandInPrometheus();
let manager: Manager;
beforeAll(async () => {
  await createModelsClaim(ns.name, ['fraud/v1', 'fraud/v2', 'fraud/v3', 'other/v1', 'other/v2', 'shared/v1']);
  // Installed before the Manager starts, so the HTTPRoute watch starts with it.
  await ensureGatewayApi();
  await prometheus.start();
  manager = new Manager({
    kubeConfig: kubeConfig(),
    logger: createLogger({ level: process.env.MV_TEST_LOG ?? 'warn' }),
    metricsPort: 0,
    healthPort: 0,
    namespaces: [ns.name],
  });
  manager.addController(modelVersionController({ prometheusUrl: prometheus.url, servingImage: 'serving:test' }));
  await manager.start();
});
afterAll(async () => {
  // The operator releases its finalizers before it stops, so the namespace can go.
  await kubectl(['delete', 'mv', '--all', '-n', ns.name, '--wait=true', '--timeout=120s']);
  await manager.stop();
  await prometheus.stop();
  await deleteModelsClaim(ns.name);
});

type MV = ModelVersion & { metadata: { name: string } };
const FAST: Partial<ModelVersionSpec> = {
  serving: {
    replicas: 2,
    rollout: {
      steps: [
        { weight: 50, pauseSeconds: 1 },
        { weight: 100, pauseSeconds: 1 },
      ],
      scaleDownDelaySeconds: 1,
      analysis: { intervalSeconds: 1, windowSeconds: 10, failureLimit: 1, minSamples: 10 },
    },
  },
};
const manifest = (name: string, version: string, spec: Partial<ModelVersionSpec> = FAST, model = 'fraud') => ({
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'ModelVersion',
  metadata: { name },
  spec: { model, version, artifact: { uri: `pvc://models/${model}/${version}/model.onnx` }, ...spec },
});
async function apply(obj: object): Promise<string> {
  const result = await kubectl(['apply', '--server-side', '-n', ns.name, '-f', '-'], dump(obj));
  if (result.code !== 0) throw new Error(result.stderr);
  return result.stdout;
}
const waitForMv = (name: string, predicate: (mv: MV) => boolean, what: string) =>
  waitFor<MV>(`/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/modelversions`, predicate, `${name}: ${what}`, {
    fieldSelector: `metadata.name=${name}`,
    timeoutMs: 60_000,
  });
const isTrue = (type: string) => (mv: MV) => condition(mv as never, type)?.status === 'True';
const service = (name: string, predicate: (s: V1Service) => boolean, what: string) =>
  waitFor<V1Service>(`/api/v1/namespaces/${ns.name}/services`, predicate, `Service ${name}: ${what}`, {
    fieldSelector: `metadata.name=${name}`,
  });
const deployment = (name: string, predicate: (d: V1Deployment) => boolean, what: string) =>
  waitFor<V1Deployment>(`/apis/apps/v1/namespaces/${ns.name}/deployments`, predicate, `Deployment ${name}: ${what}`, {
    fieldSelector: `metadata.name=${name}`,
    // A version that loses its traffic keeps its pods for a 30 s drain.
    timeoutMs: 90_000,
  });
/** The operator's requests to the API server so far, by method (its own metrics). */
const requests = async (method: string) => {
  const metric = await manager.registry.getSingleMetric('rest_client_requests_total')!.get();
  return metric.values.filter((v) => v.labels.method === method).reduce((sum, v) => sum + v.value, 0);
};
const events = async (name: string) => {
  const list = await kubectl([
    'get',
    'events',
    '-n',
    ns.name,
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(list.stdout) as { items: { reason: string; type: string; message: string }[] }).items;
};

test('the first version serves once its pods are ready: owned Deployment and Service, the model Service, Ready', async () => {
  await apply(manifest('fraud-v1', 'v1'));
  await waitForMv('fraud-v1', isTrue('Ready'), 'Ready');
  const ready = await waitForMv('fraud-v1', (mv) => mv.status?.readyReplicas === 2, 'both pods ready');
  expect(ready.metadata.finalizers).toEqual(['modelops.dev/traffic']);
  expect(ready.status).toMatchObject({
    phase: 'Serving',
    role: 'stable',
    weight: 100,
    readyReplicas: 2,
    url: `http://fraud.${ns.name}.svc/v2/models/fraud`,
    traffic: { mechanism: 'ReplicaRatio', stable: { name: 'fraud-v1', version: 'v1', weight: 100 } },
  });
  const d = await deployment('fraud-v1', () => true, 'exists');
  expect(d.metadata!.ownerReferences).toEqual([
    expect.objectContaining({ kind: 'ModelVersion', name: 'fraud-v1', uid: ready.metadata.uid, controller: true }),
  ]);
  expect(d.spec!.template.spec!.containers[0]!.env).toEqual(
    expect.arrayContaining([
      { name: 'MODEL_URI', value: '/models/fraud/v1/model.onnx' },
      { name: 'MODEL_ROLE', value: 'stable' },
    ]),
  );
  const svc = await service('fraud', () => true, 'exists');
  expect(svc.spec!.selector).toEqual({ 'modelops.dev/modelversion': 'fraud-v1' });
  expect(svc.metadata!.labels).toMatchObject({
    'modelops.dev/model': 'fraud',
    'app.kubernetes.io/managed-by': 'modelops',
  });
  const wait = await kubectl(['wait', '-n', ns.name, '--for=condition=Ready', 'mv/fraud-v1', '--timeout=5s']);
  expect(wait.stdout).toMatch(/condition met/);
  expect((await events('fraud-v1')).map((e) => e.reason)).toContain('Serving');

  // A pass over a settled model applies nothing: what the API server holds already is what it would apply.
  const patches = await requests('PATCH');
  await kubectl(['annotate', '-n', ns.name, 'mv/fraud-v1', 'modelops.dev/retry=poke', '--overwrite']);
  await waitForMv('fraud-v1', (mv) => mv.status?.handledActions?.retry === 'poke', 'the poke handled');
  expect(await requests('PATCH')).toBe(patches);
});

test("a field of a version's Deployment taken by someone else's server-side apply: the operator takes it back (it forces)", async () => {
  const before = await deployment('fraud-v1', () => true, 'exists');
  const container = before.spec!.template.spec!.containers[0]!.name;
  const taken = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'fraud-v1' },
    spec: { template: { spec: { containers: [{ name: container, image: 'someone/else:1' }] } } },
  };
  const result = await kubectl(
    ['apply', '--server-side', '--force-conflicts', '--field-manager=someone', '-n', ns.name, '-f', '-'],
    dump(taken),
  );
  expect(result.stderr).toBe('');
  const back = await deployment(
    'fraud-v1',
    (d) => d.spec!.template.spec!.containers[0]!.image === 'serving:test',
    'its image back from someone',
  );
  // Forcing moved the field back to the operator's manager: the other one no longer owns the image.
  const someone = back.metadata!.managedFields!.find((f) => f.manager === 'someone');
  expect(JSON.stringify(someone?.fieldsV1 ?? {})).not.toContain('f:image');
  await waitForMv('fraud-v1', isTrue('Ready'), 'still Ready');
});

test('a good canary walks its steps and is promoted; the model Service selector follows (server-side apply drops keys)', async () => {
  const selectors: string[] = [];
  const watching = service(
    'fraud',
    (s) => {
      const sel = JSON.stringify(s.spec!.selector);
      if (selectors.at(-1) !== sel) selectors.push(sel);
      return s.spec!.selector?.['modelops.dev/modelversion'] === 'fraud-v2';
    },
    'on the canary alone',
  );
  await apply(manifest('fraud-v2', 'v2'));
  await watching;
  const promoted = await waitForMv('fraud-v2', isTrue('Promoted'), 'Promoted');
  expect(promoted.status).toMatchObject({ phase: 'Serving', role: 'stable', rollout: { previousStable: 'fraud-v1' } });
  expect(selectors).toEqual([
    JSON.stringify({ 'modelops.dev/modelversion': 'fraud-v1' }),
    JSON.stringify({ 'app.kubernetes.io/name': 'modelops-serving', 'modelops.dev/model': 'fraud' }),
    JSON.stringify({ 'modelops.dev/modelversion': 'fraud-v2' }),
  ]);
  await waitForMv('fraud-v1', (mv) => mv.status?.phase === 'Retired', 'Retired');
  await deployment('fraud-v1', (d) => d.spec?.replicas === 0, 'scaled down after the delay');
  const table = await kubectl(['get', 'mv', '-n', ns.name]);
  expect(table.stdout).toMatch(/NAME\s+MODEL\s+VERSION\s+ROLE\s+WEIGHT\s+PHASE\s+AGE/);
  expect(table.stdout).toMatch(/fraud-v2\s+fraud\s+v2\s+stable\s+100\s+Serving/);
  expect((await events('fraud-v2')).map((e) => e.reason)).toEqual(
    expect.arrayContaining(['CanaryStarted', 'StepAdvanced', 'Promoted']),
  );
});

test('an erroring canary is rolled back and quarantined; re-applying does not restart it, retry does', async () => {
  prometheus.errorRate.v3 = 0.4;
  const bad = manifest('fraud-v3', 'v3');
  await apply(bad);
  const rolled = await waitForMv('fraud-v3', isTrue('RolledBack'), 'RolledBack');
  expect(condition(rolled as never, 'RolledBack')).toMatchObject({
    reason: 'AnalysisFailed',
    message: expect.stringMatching(/^error-rate: 40 % > 1 %/),
  });
  await service('fraud', (s) => s.spec!.selector?.['modelops.dev/modelversion'] === 'fraud-v2', 'back on the stable');
  await deployment('fraud-v3', (d) => d.spec?.replicas === 0, 'at 0 replicas');
  expect((await events('fraud-v3')).find((e) => e.reason === 'RolledBack')).toMatchObject({
    type: 'Warning',
    message: expect.stringMatching(/error-rate: 40 % > 1 %.*; all traffic back on v2$/),
  });

  // The same manifest again, and a spec change: both seen, neither restarts it.
  await apply(bad);
  await apply(manifest('fraud-v3', 'v3', { serving: { ...FAST.serving, env: [{ name: 'X', value: '1' }] } }));
  const seen = await waitForMv('fraud-v3', (mv) => mv.status?.observedGeneration === 2, 'generation 2 observed');
  expect(seen.status).toMatchObject({ phase: 'RolledBack', weight: 0, replicas: 0 });

  prometheus.errorRate.v3 = 0;
  await kubectl(['annotate', '-n', ns.name, 'mv/fraud-v3', 'modelops.dev/retry=1', '--overwrite']);
  await waitForMv(
    'fraud-v3',
    (mv) => mv.status?.handledActions?.retry === '1' && mv.status.role === 'canary',
    'retried',
  );
  await waitForMv('fraud-v3', isTrue('Promoted'), 'promoted after the retry');
});

test('deleting a canary mid-rollout: traffic back on the stable, then it goes; the last version takes the routing with it', async () => {
  const held = {
    serving: {
      ...FAST.serving,
      rollout: { ...FAST.serving!.rollout, steps: [{ weight: 50, pauseSeconds: 3600 }, { weight: 100 }] },
    },
  };
  await apply(manifest('other-v1', 'v1', FAST, 'other'));
  await waitForMv('other-v1', isTrue('Ready'), 'Ready');
  await apply(manifest('other-v2', 'v2', held, 'other'));
  await waitForMv('other-v2', (mv) => mv.status?.weight === 50, 'at 50 %');
  await objectApi().delete({
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name: 'other-v2', namespace: ns.name },
  });
  // Its pods drain for 30 s before its finalizer goes.
  await waitForGone(`/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/modelversions`, 'other-v2', {
    fieldSelector: 'metadata.name=other-v2',
    timeoutMs: 90_000,
  });
  const svc = await service('other', () => true, 'exists');
  expect(svc.spec!.selector).toEqual({ 'modelops.dev/modelversion': 'other-v1' });
  await waitForGone(`/apis/apps/v1/namespaces/${ns.name}/deployments`, 'other-v2 Deployment (garbage collected)', {
    fieldSelector: 'metadata.name=other-v2',
  });

  await deleteLastVersion(ns.name, 'other-v1', 'other', 90_000);
});

test('an existing HTTPRoute named by the spec: the rules pointing at the model get the weights, the rest is left alone', async () => {
  const route = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'public', namespace: ns.name },
    spec: {
      parentRefs: [{ name: 'edge' }],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/docs' } }], backendRefs: [{ name: 'docs', port: 80 }] },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/v2/models/shared' } }],
          backendRefs: [{ name: 'shared', port: 80 }],
        },
      ],
    },
  };
  await apply(route);
  const traffic = { gatewayAPI: { httpRoute: 'public' } };
  await apply(manifest('shared-v1', 'v1', { serving: { ...FAST.serving, traffic } }, 'shared'));
  await waitForMv('shared-v1', isTrue('Ready'), 'Ready');
  const rewritten = await waitFor<{ spec: { rules: { backendRefs: { name: string; weight?: number }[] }[] } }>(
    `/apis/gateway.networking.k8s.io/v1/namespaces/${ns.name}/httproutes`,
    (r) => r.spec.rules[1]?.backendRefs[0]?.name === 'shared-v1',
    'the model rule rewritten',
    { fieldSelector: 'metadata.name=public' },
  );
  expect(rewritten.spec.rules[0]!.backendRefs).toEqual([expect.objectContaining({ name: 'docs', port: 80 })]);
  expect(rewritten.spec.rules[1]!.backendRefs).toEqual([
    expect.objectContaining({ name: 'shared-v1', port: 80, weight: 100 }),
  ]);
  expect((await waitForMv('shared-v1', () => true, 'read')).status?.traffic).toMatchObject({
    mechanism: 'GatewayAPI',
    route: 'public',
  });
});
