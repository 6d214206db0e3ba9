// The reconciler on the runtime's in-memory cluster: what it reads, what it writes and in which order,
// the Events after a write, finalizers, and what it does when Prometheus or the Gateway API is missing.
// Pods "become ready" when a test says so (the cluster has no kubelet); Prometheus answers from a table.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { resources, type ModelVersion, type ModelVersionSpec } from '../../api/index.js';
import { PrometheusError, type PrometheusClient, type Sample } from '../../prometheus/index.js';
import type { FakeClock, Wire } from '../../runtime/index.js';
import { InMemoryCluster } from '../../runtime/testing/index.js';
import { DEPLOYMENT, SERVICE } from '../resources.js';
import { modelVersionController } from './controller.js';
import { DRAIN_MS } from './rollout.js';
import { modelVersion } from './fixtures.test-helpers.js';
import { HTTP_ROUTE, type HTTPRoute } from './traffic/httproute.js';

const MV = resources.ModelVersion;
const KEY = { namespace: 'ml', name: 'fraud' };
const SETTINGS = { prometheusUrl: 'http://prometheus.test', servingImage: 'ghcr.io/modelops/serving:0.1.0' };
const FAST: Partial<ModelVersionSpec> = {
  serving: {
    replicas: 2,
    rollout: {
      steps: [
        { weight: 50, pauseSeconds: 0 },
        { weight: 100, pauseSeconds: 0 },
      ],
      analysis: { intervalSeconds: 5, windowSeconds: 10, failureLimit: 1, minSamples: 10 },
    },
  },
};

/** Prometheus as the analysis sees it: every version healthy unless told otherwise. */
class FakePrometheus implements PrometheusClient {
  readonly url = 'http://prometheus.test';
  errorRate: Record<string, number> = {};
  down = false;
  queries: string[] = [];
  async query(expr: string): Promise<Sample[]> {
    this.queries.push(expr);
    if (this.down) throw new PrometheusError('unreachable', this.url, expr, 'connect ECONNREFUSED 10.96.0.9:9090');
    const versions = ['v1', 'v2', 'v3'];
    if (expr.includes('code=~"5.."'))
      return versions.map((v) => ({ labels: { version: v }, value: 100 * (this.errorRate[v] ?? 0) }));
    if (expr.startsWith('sum by (version) (increase(modelops_inference_requests_total'))
      return versions.map((v) => ({ labels: { version: v }, value: 100 }));
    if (expr.startsWith('histogram_quantile')) return versions.map((v) => ({ labels: { version: v }, value: 0.004 }));
    return [];
  }
  async queryRange(): Promise<never> {
    throw new Error('not used');
  }
}

function setup() {
  const cluster = new InMemoryCluster();
  // The in-memory cluster merges applied fields (no field ownership): the selector the controller
  // applied to the model's Service is read from what it sent.
  const selectors: Record<string, string>[] = [];
  cluster.interceptWrites(({ ref, key, object }) => {
    if (ref === SERVICE && key.name === 'fraud' && object) selectors.push((object as Wire<V1Service>).spec!.selector!);
    return undefined;
  });
  const selector = () => selectors.at(-1);
  const prometheus = new FakePrometheus();
  const controller = modelVersionController(SETTINGS, { prometheus: () => prometheus });
  /** What server-side apply does and the in-memory merge does not: the selector is the one last applied. */
  const ownSelector = () => {
    const service = cluster.get<Wire<V1Service>>(SERVICE, KEY);
    const applied = selector();
    if (service && applied && JSON.stringify(service.spec!.selector) !== JSON.stringify(applied))
      cluster.seed(SERVICE, { ...service, spec: { ...service.spec, selector: applied } });
  };
  const reconcile = async () => {
    const result = await cluster.reconcile(controller, KEY);
    ownSelector();
    return result;
  };
  /** Reconciles until a pass writes nothing (as the watch events of its own writes would). */
  const settle = async () => {
    for (let i = 0; i < 20; i++) {
      const before = cluster.writes.length;
      await reconcile();
      if (cluster.writes.length === before) return;
    }
    throw new Error('no fixed point after 20 passes');
  };
  /** The kubelet's part: every Deployment's pods ready as asked. */
  const podsReady = async (...names: string[]) => {
    for (const d of cluster.list<Wire<V1Deployment>>(DEPLOYMENT, 'ml')) {
      if (names.length && !names.includes(d.metadata!.name!)) continue;
      await cluster.client.updateStatus(DEPLOYMENT, { ...d, status: { readyReplicas: d.spec?.replicas ?? 0 } });
    }
  };
  const mv = (name: string) => cluster.get<ModelVersion>(MV, { namespace: 'ml', name })!;
  const cond = (name: string, type: string) => mv(name).status?.conditions?.find((c) => c.type === type);
  const apply = (name: string, spec: Partial<ModelVersionSpec> = FAST, annotations: Record<string, string> = {}) =>
    cluster.seed(MV, { ...modelVersion(name, spec), metadata: { name, namespace: 'ml', annotations } });
  const advance = (seconds: number) => (cluster.clock as FakeClock).advance(seconds * 1000);
  return {
    cluster,
    prometheus,
    controller,
    reconcile,
    settle,
    podsReady,
    mv,
    cond,
    apply,
    advance,
    selector,
    selectors,
  };
}

/** A model serving v1 as its stable version. */
async function serving() {
  const t = setup();
  t.apply('fraud-v1');
  await t.settle();
  await t.podsReady();
  await t.settle();
  return t;
}

test('the first pass creates the Deployment and writes the status once; the second adds the finalizer, then the Services; the third nothing', async () => {
  const t = setup();
  t.apply('fraud-v1');
  const fieldManagers = new Set<string | undefined>();
  const writes = async () => {
    await t.reconcile();
    const pass = t.cluster.writes.splice(0);
    for (const w of pass) fieldManagers.add(w.fieldManager);
    return pass.map((w) => `${w.verb} ${w.resource} ${w.key.name}`);
  };
  // Server-side apply of objects that do not exist yet: the in-memory cluster records a create.
  expect(await writes()).toEqual([
    // Pods take longest: under a burst every new version's Deployment goes first, and before any Service.
    'create deployments.apps/v1 fraud-v1',
    'updateStatus modelversions.modelops.dev/v1alpha1 fraud-v1',
  ]);
  expect(t.mv('fraud-v1').metadata.finalizers).toBeUndefined(); // no traffic can reach it yet
  expect(t.mv('fraud-v1').status).toMatchObject({
    phase: 'Deploying',
    role: 'none',
    replicas: 2,
    observedGeneration: 1,
  });
  const deployment = t.cluster.get<Wire<V1Deployment>>(DEPLOYMENT, { namespace: 'ml', name: 'fraud-v1' })!;
  expect(deployment.spec!.replicas).toBe(2);
  expect(deployment.metadata!.ownerReferences![0]).toMatchObject({ kind: 'ModelVersion', name: 'fraud-v1' });
  // The finalizer before any traffic can reach the version; capacity before traffic: the version's Service (an
  // HTTPRoute's backend), then the model's.
  expect(await writes()).toEqual([
    'patch modelversions.modelops.dev/v1alpha1 fraud-v1',
    'create services/v1 fraud-v1',
    'create services/v1 fraud',
  ]);
  expect(t.mv('fraud-v1').metadata.finalizers).toEqual(['modelops.dev/traffic']);
  expect(t.selector()).toEqual({ 'modelops.dev/modelversion': 'fraud-v1' });
  expect(t.cluster.events).toEqual([]);
  expect(await writes()).toEqual([]);
  expect(fieldManagers).toEqual(new Set(['modelops-modelversion']));
});

test('ready pods make it the stable version: Ready, an Event after the write; then passes write nothing', async () => {
  const t = await serving();
  expect(t.mv('fraud-v1').status).toMatchObject({ phase: 'Serving', role: 'stable', weight: 100 });
  expect(t.cond('fraud-v1', 'Ready')).toMatchObject({ status: 'True', reason: 'Serving' });
  expect(t.cluster.events).toEqual([
    {
      regarding: { kind: 'ModelVersion', namespace: 'ml', name: 'fraud-v1' },
      type: 'Normal',
      reason: 'Serving',
      message: 'serving fraud v1 as the stable version',
    },
  ]);
  const writes = t.cluster.writes.length;
  t.advance(3600);
  await t.reconcile();
  await t.reconcile();
  expect(t.cluster.writes.length).toBe(writes);
  expect(t.cluster.events).toHaveLength(1);
});

test('a good canary is analysed against Prometheus and promoted; the model Service follows each step', async () => {
  const t = await serving();
  t.apply('fraud-v2');
  await t.settle();
  expect(t.mv('fraud-v2').status).toMatchObject({ phase: 'Deploying', role: 'canary' });
  await t.podsReady('fraud-v2');
  for (let i = 0; i < 10 && t.mv('fraud-v2').status?.phase !== 'Serving'; i++) {
    await t.podsReady('fraud-v2');
    await t.settle();
    t.advance(5);
  }
  expect(t.prometheus.queries.some((q) => q.includes('version=~"v2|v1"'))).toBe(true);
  expect(t.mv('fraud-v2').status).toMatchObject({ phase: 'Serving', role: 'stable' });
  expect(t.mv('fraud-v1').status).toMatchObject({ phase: 'Retired' });
  // The stable alone, then every version's pods (50 %), then the canary alone (100 %, and stable).
  expect(t.selectors.filter((x, i, all) => JSON.stringify(x) !== JSON.stringify(all[i - 1]))).toEqual([
    { 'modelops.dev/modelversion': 'fraud-v1' },
    { 'app.kubernetes.io/name': 'modelops-serving', 'modelops.dev/model': 'fraud' },
    { 'modelops.dev/modelversion': 'fraud-v2' },
  ]);
  expect(t.cluster.events.map((e) => `${e.regarding.name} ${e.reason}`)).toEqual([
    'fraud-v1 Serving',
    'fraud-v2 CanaryStarted',
    'fraud-v2 StepAdvanced',
    'fraud-v2 Promoted',
    'fraud-v1 Retired',
  ]);
});

test('a failing canary: the rollback is written to status first, then the Service goes back to the stable', async () => {
  const t = await serving();
  t.apply('fraud-v2');
  await t.settle();
  await t.podsReady('fraud-v2');
  await t.settle();
  t.prometheus.errorRate.v2 = 0.3;
  t.cluster.writes.length = 0;
  t.advance(5);
  await t.reconcile();
  expect(t.mv('fraud-v2').status).toMatchObject({ phase: 'RolledBack', weight: 0 });
  const order = t.cluster.writes.map((w) => `${w.verb} ${w.key.name}`);
  expect(order.indexOf('updateStatus fraud-v2')).toBeGreaterThanOrEqual(0);
  expect(order.indexOf('updateStatus fraud-v2')).toBeLessThan(order.indexOf('apply fraud'));
  expect(t.selector()).toEqual({ 'modelops.dev/modelversion': 'fraud-v1' });
  // The canary's pods drain for a moment, then go.
  const replicas = () =>
    t.cluster.get<Wire<V1Deployment>>(DEPLOYMENT, { namespace: 'ml', name: 'fraud-v2' })!.spec!.replicas;
  expect(replicas()).toBeGreaterThan(0);
  t.advance(DRAIN_MS / 1000);
  await t.reconcile();
  expect(replicas()).toBe(0);
  expect(t.cluster.events.at(-1)).toMatchObject({
    type: 'Warning',
    reason: 'RolledBack',
    message: expect.stringMatching(/^error-rate: 30 % > 1 %; .*all traffic back on v1$/),
  });
});

test('Prometheus unreachable: weights held, Degraded with the error; the analysis is retried every interval', async () => {
  const t = await serving();
  t.apply('fraud-v2');
  await t.settle();
  t.prometheus.down = true;
  await t.podsReady('fraud-v2');
  await t.settle();
  expect(t.mv('fraud-v2').status).toMatchObject({ phase: 'Canary', weight: 50, analysis: { verdict: 'Error' } });
  expect(t.cond('fraud-v2', 'Degraded')).toMatchObject({
    status: 'True',
    reason: 'MetricsUnavailable',
    message: expect.stringMatching(/^Prometheus http:\/\/prometheus.test: unreachable .*ECONNREFUSED/),
  });
  const asked = t.prometheus.queries.length;
  t.advance(5);
  const result = await t.reconcile();
  expect(t.prometheus.queries.length).toBeGreaterThan(asked);
  expect(result).toEqual({ requeueAfterMs: expect.any(Number) });
});

test('no Prometheus configured: Degraded NoMetricsSource, the canary held, nothing queried', async () => {
  const t = setup();
  const controller = modelVersionController({ ...SETTINGS, prometheusUrl: undefined });
  t.apply('fraud-v1');
  const reconcile = async () => {
    await t.cluster.reconcile(controller, KEY);
  };
  for (let i = 0; i < 3; i++) await reconcile();
  await t.podsReady();
  await reconcile();
  t.apply('fraud-v2');
  for (let i = 0; i < 4; i++) await reconcile();
  await t.podsReady('fraud-v2');
  for (let i = 0; i < 4; i++) {
    t.advance(5);
    await reconcile();
  }
  expect(t.cond('fraud-v2', 'Degraded')).toMatchObject({ status: 'True', reason: 'NoMetricsSource' });
  expect(t.mv('fraud-v2').status).toMatchObject({ phase: 'Canary', weight: 50 });
});

test('Gateway API asked for on a cluster without it: the stable serves by its Service, Degraded says why', async () => {
  const t = setup();
  t.cluster.setAvailable(HTTP_ROUTE, false);
  t.apply('fraud-v1', { serving: { traffic: { gatewayAPI: { parentRefs: [{ name: 'gw' }] } } } });
  await t.settle();
  await t.podsReady();
  await t.settle();
  expect(t.mv('fraud-v1').status).toMatchObject({ phase: 'Serving', traffic: { mechanism: 'ReplicaRatio' } });
  expect(t.cond('fraud-v1', 'Degraded')).toMatchObject({ status: 'True', reason: 'GatewayAPIUnavailable' });
  expect(t.cluster.get(SERVICE, KEY)).toBeDefined();
});

test('Gateway API: the operator owns the route named after the model, with the stable’s backend', async () => {
  const t = setup();
  t.apply('fraud-v1', { serving: { traffic: { gatewayAPI: { parentRefs: [{ name: 'gw' }] } } } });
  await t.settle();
  await t.podsReady();
  await t.settle();
  const route = t.cluster.get<HTTPRoute>(HTTP_ROUTE, KEY)!;
  expect(route.spec.parentRefs).toEqual([{ name: 'gw' }]);
  expect(route.spec.rules).toEqual([{ backendRefs: [{ name: 'fraud-v1', port: 80, weight: 100 }] }]);
  expect(route.metadata.labels).toMatchObject({ 'modelops.dev/model': 'fraud' });
});

test('deleting the canary: traffic back on the stable, then the finalizer goes; deleting the last version removes the routing', async () => {
  const t = await serving();
  t.apply('fraud-v2');
  await t.settle();
  await t.podsReady('fraud-v2');
  await t.settle();
  await t.cluster.client.delete(MV, { namespace: 'ml', name: 'fraud-v2' });
  expect(t.mv('fraud-v2').metadata.deletionTimestamp).toBeDefined();
  await t.reconcile();
  // Traffic first; the finalizer stays while its pods drain (the time recorded in its status), then goes.
  expect(t.mv('fraud-v2').status?.rollout?.drainUntil).toBeDefined();
  t.advance(DRAIN_MS / 1000);
  await t.reconcile();
  expect(t.mv('fraud-v2')).toBeUndefined();
  expect(t.selector()).toEqual({ 'modelops.dev/modelversion': 'fraud-v1' });

  await t.cluster.client.delete(MV, { namespace: 'ml', name: 'fraud-v1' });
  await t.reconcile();
  t.advance(DRAIN_MS / 1000);
  await t.reconcile();
  expect(t.mv('fraud-v1')).toBeUndefined();
  expect(t.cluster.get(SERVICE, KEY)).toBeUndefined();
});

test('a Deployment of the same name that it does not own: Failed NameConflict, the Deployment left alone', async () => {
  const t = setup();
  t.cluster.seed(DEPLOYMENT, { metadata: { name: 'fraud-v1', namespace: 'ml' }, spec: { replicas: 7 } } as never);
  t.apply('fraud-v1');
  await t.settle();
  expect(t.mv('fraud-v1').status).toMatchObject({ phase: 'Failed' });
  expect(t.cond('fraud-v1', 'Degraded')).toMatchObject({
    reason: 'NameConflict',
    message: 'Deployment fraud-v1 exists and is not owned by this ModelVersion',
  });
  expect(t.cluster.get<Wire<V1Deployment>>(DEPLOYMENT, { namespace: 'ml', name: 'fraud-v1' })!.spec!.replicas).toBe(7);
});

test('a retry annotation from kubectl restarts a rolled-back version; the same value again does nothing', async () => {
  const t = await serving();
  t.prometheus.errorRate.v2 = 0.5;
  t.apply('fraud-v2');
  await t.settle();
  await t.podsReady('fraud-v2');
  await t.settle();
  t.advance(5);
  await t.settle();
  expect(t.mv('fraud-v2').status?.phase).toBe('RolledBack');
  t.prometheus.errorRate.v2 = 0;
  const current = t.mv('fraud-v2');
  await t.cluster.client.patch(
    MV,
    { namespace: 'ml', name: 'fraud-v2' },
    {
      metadata: { annotations: { 'modelops.dev/retry': '1' }, resourceVersion: current.metadata.resourceVersion },
    },
  );
  await t.settle();
  expect(t.mv('fraud-v2').status).toMatchObject({ role: 'canary', handledActions: { retry: '1' } });
  expect(t.cond('fraud-v2', 'RolledBack')).toMatchObject({ status: 'False', reason: 'Retried' });
  const events = t.cluster.events.length;
  t.advance(60);
  await t.settle();
  expect(t.cluster.events.slice(events).map((e) => e.reason)).not.toContain('Retried');
});

test("an existing HTTPRoute named by a version's spec wakes that version's model; before the versions' cache has synced, nothing (and no throw)", () => {
  const t = setup();
  t.apply('fraud-v1', { ...FAST, serving: { traffic: { gatewayAPI: { httpRoute: 'shop' } } } } as never);
  const watch = t.controller.watches!.find((w) => w.resource === HTTP_ROUTE)!;
  const route = { metadata: { namespace: 'ml', name: 'shop' } };
  const ctx = t.cluster.context(t.controller);
  expect(watch.map(route, ctx.cache)).toEqual([KEY]);
  t.cluster.setAvailable(MV, false);
  expect(watch.map(route, ctx.cache)).toEqual([]);
});
