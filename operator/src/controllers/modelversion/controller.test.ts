// The reconciler on the runtime's in-memory cluster: what it reads, what it writes and in which order,
// the Events after a write, finalizers, and what it does when Prometheus or the Gateway API is missing.
// Pods "become ready" when a test says so (the cluster has no kubelet); Prometheus answers from a table.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ControllerSettings } from '../../config.js';
import { resources, type ModelVersion, type ModelVersionSpec } from '../../api/index.js';
import { PrometheusError, type PrometheusClient, type Sample } from '../../prometheus/index.js';
import { ApiError, NotFoundError, type ForSpec, type KubernetesObject, type Wire } from '../../runtime/index.js';
import { InMemoryCluster, refusedUrl, type FakeClock } from '../../runtime/testing/index.js';
import { DEPLOYMENT, HPA, SERVICE } from '../resources.js';
import { modelVersionController, type ModelVersionDeps } from './controller.js';
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
  /** Cumulative prediction-score buckets per version, at le 0.5, 1 and +Inf. */
  scores: Record<string, [number, number, number]> = {};
  /** What every query throws, when set. */
  failure: Error | undefined;
  queries: string[] = [];
  async query(expr: string): Promise<Sample[]> {
    this.queries.push(expr);
    if (this.failure) throw this.failure;
    const versions = ['v1', 'v2', 'v3'];
    if (expr.includes('code=~"5.."'))
      return versions.map((v) => ({ labels: { version: v }, value: 100 * (this.errorRate[v] ?? 0) }));
    if (expr.startsWith('sum by (version) (increase(modelops_inference_requests_total'))
      return versions.map((v) => ({ labels: { version: v }, value: 100 }));
    if (expr.startsWith('histogram_quantile')) return versions.map((v) => ({ labels: { version: v }, value: 0.004 }));
    if (expr.includes('modelops_prediction_score_bucket'))
      return Object.entries(this.scores).flatMap(([version, buckets]) =>
        ['0.5', '1', '+Inf'].map((le, i) => ({ labels: { version, le }, value: buckets[i]! })),
      );
    return [];
  }
  async queryRange(): Promise<never> {
    throw new Error('not used');
  }
}

function setup(settings: ControllerSettings = SETTINGS, deps?: ModelVersionDeps) {
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
  const controller = modelVersionController(settings, deps ?? { prometheus: () => prometheus });
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

/** v1 applied with `spec`, its pods ready, settled: the model's stable version. */
async function serveV1(t: ReturnType<typeof setup>, spec?: Partial<ModelVersionSpec>) {
  t.apply('fraud-v1', spec);
  await t.settle();
  await t.podsReady();
  await t.settle();
  return t;
}

/** v2 applied, its pods ready, settled: the canary at its first step, before any analysis is due. */
async function startCanary(t: ReturnType<typeof setup>) {
  t.apply('fraud-v2');
  await t.settle();
  await t.podsReady('fraud-v2');
  await t.settle();
}

/** A model serving v1 as its stable version. */
const serving = (...args: Parameters<typeof setup>) => serveV1(setup(...args));

/** Records, per pass, each Deployment's replicas as written and whom the model Service selects. */
function recordPasses(t: ReturnType<typeof setup>): string[][] {
  const passes: string[][] = [[]];
  t.cluster.interceptWrites(({ verb, ref, key, object }) => {
    if (ref === SERVICE && key.name === 'fraud' && object)
      passes.at(-1)!.push(`model Service ${Object.values((object as Wire<V1Service>).spec!.selector!).join(',')}`);
    if (ref === DEPLOYMENT && object && verb !== 'updateStatus') {
      const before = t.cluster.get<Wire<V1Deployment>>(DEPLOYMENT, key)?.spec?.replicas ?? 0;
      passes.at(-1)!.push(`${key.name} ${before}->${(object as Wire<V1Deployment>).spec!.replicas}`);
    }
    return undefined;
  });
  return passes;
}

/** Applies `name` and reconciles, pods ready before each pass, until it serves; the passes that wrote something. */
async function rollOut(t: ReturnType<typeof setup>, name: string, spec: Partial<ModelVersionSpec>, passes: string[][]) {
  passes.length = 0;
  t.apply(name, spec);
  for (let i = 0; i < 10 && t.mv(name).status?.phase !== 'Serving'; i++) {
    await t.podsReady();
    t.advance(5);
    passes.push([]);
    await t.reconcile();
  }
  return passes.filter((p) => p.length);
}

const GATEWAY: Partial<ModelVersionSpec> = { serving: { traffic: { gatewayAPI: { parentRefs: [{ name: 'gw' }] } } } };

test('the first pass creates the Deployment alone; the second adds the finalizer, writes the status, then the Services; the third nothing', async () => {
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
    // Pods take longest: under a burst every new version's Deployment goes first, before any status or Service.
    'create deployments.apps/v1 fraud-v1',
  ]);
  expect(t.mv('fraud-v1').metadata.finalizers).toBeUndefined(); // no traffic can reach it yet
  expect(t.mv('fraud-v1').status).toBeUndefined();
  const deployment = t.cluster.get<Wire<V1Deployment>>(DEPLOYMENT, { namespace: 'ml', name: 'fraud-v1' })!;
  expect(deployment.spec!.replicas).toBe(2);
  expect(deployment.metadata!.ownerReferences![0]).toMatchObject({ kind: 'ModelVersion', name: 'fraud-v1' });
  // The finalizer before any traffic can reach the version; the decisions before the objects that enact them;
  // capacity before traffic: the version's Service (an HTTPRoute's backend), then the model's.
  expect(await writes()).toEqual([
    'patch modelversions.modelops.dev/v1alpha1 fraud-v1',
    'updateStatus modelversions.modelops.dev/v1alpha1 fraud-v1',
    'create services/v1 fraud-v1',
    'create services/v1 fraud',
  ]);
  expect(t.mv('fraud-v1').status).toMatchObject({
    phase: 'Deploying',
    role: 'none',
    replicas: 2,
    observedGeneration: 1,
  });
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
  expect(t.cluster.logs).toEqual([
    { level: 'info', modelversion: 'fraud-v1', reason: 'Serving', msg: 'serving fraud v1 as the stable version' },
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
  await startCanary(t);
  t.prometheus.errorRate.v2 = 0.3;
  t.cluster.writes.length = 0;
  t.advance(5);
  await t.reconcile();
  expect(t.mv('fraud-v2').status).toMatchObject({ phase: 'RolledBack', weight: 0 });
  expect(t.cluster.logs.at(-1)).toEqual({
    level: 'debug',
    canary: 'v2',
    outcome: { kind: 'measured', result: expect.objectContaining({ verdict: 'Fail' }) },
    msg: 'analysed',
  });
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
  t.prometheus.failure = new PrometheusError(
    'unreachable',
    t.prometheus.url,
    'up',
    'connect ECONNREFUSED 10.96.0.9:9090',
  );
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

test.each([
  ['cancelled (the reconcile’s own signal)', new PrometheusError('aborted', 'http://prometheus.test', 'up', 'aborted')],
  ['not Prometheus’s (a bug)', new TypeError('m.canary is undefined')],
])('an analysis that fails otherwise, %s: thrown for the runtime, not recorded as Degraded', async (_case, error) => {
  const t = await serving();
  await startCanary(t);
  t.prometheus.failure = error;
  t.advance(5);
  await expect(t.reconcile()).rejects.toBe(error);
  expect(t.cond('fraud-v2', 'Degraded')?.status).not.toBe('True');
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
  expect(t.cond('fraud-v2', 'Degraded')).toMatchObject({
    status: 'True',
    reason: 'NoMetricsSource',
    message:
      'no Prometheus to analyse the canary with: start the operator with --prometheus-url or set spec.serving.rollout.analysis.prometheusUrl',
  });
  expect(t.mv('fraud-v2').status).toMatchObject({ phase: 'Canary', weight: 50 });
});

test('Gateway API asked for on a cluster without it: the stable serves by its Service, Degraded says why', async () => {
  const t = setup();
  t.cluster.setAvailable(HTTP_ROUTE, false);
  await serveV1(t, GATEWAY);
  expect(t.mv('fraud-v1').status).toMatchObject({ phase: 'Serving', traffic: { mechanism: 'ReplicaRatio' } });
  expect(t.cond('fraud-v1', 'Degraded')).toMatchObject({ status: 'True', reason: 'GatewayAPIUnavailable' });
  expect(t.cluster.get(SERVICE, KEY)).toBeDefined();
});

test('Gateway API: the operator owns the route named after the model, with the stable’s backend', async () => {
  const t = setup();
  await serveV1(t, GATEWAY);
  const route = t.cluster.get<HTTPRoute>(HTTP_ROUTE, KEY)!;
  expect(route.spec.parentRefs).toEqual([{ name: 'gw' }]);
  expect(route.spec.rules).toEqual([{ backendRefs: [{ name: 'fraud-v1', port: 80, weight: 100 }] }]);
  expect(route.metadata.labels).toMatchObject({ 'modelops.dev/model': 'fraud' });
  // The last version gone: its route goes with it.
  await t.cluster.client.delete(MV, { namespace: 'ml', name: 'fraud-v1' });
  await t.reconcile();
  t.advance(DRAIN_MS / 1000);
  await t.reconcile();
  expect(t.mv('fraud-v1')).toBeUndefined();
  expect(t.cluster.get(HTTP_ROUTE, KEY)).toBeUndefined();
});

test('Gateway API turned off in the spec: the route the operator owned is deleted, the model Service serves', async () => {
  const t = setup();
  await serveV1(t, GATEWAY);
  expect(t.cluster.get(HTTP_ROUTE, KEY)).toBeDefined();
  await t.cluster.client.patch(MV, { namespace: 'ml', name: 'fraud-v1' }, { spec: { serving: { traffic: null } } });
  await t.settle();
  expect(t.cluster.get(HTTP_ROUTE, KEY)).toBeUndefined();
  expect(t.selector()).toEqual({ 'modelops.dev/modelversion': 'fraud-v1' });
});

test('autoscaling: an HPA while stable; turned off, the HPA is deleted; never a delete for an HPA that is not there', async () => {
  const t = setup();
  const deletes: string[] = [];
  t.cluster.interceptWrites(({ verb, ref, key }) => {
    if (ref === HPA && verb === 'delete') deletes.push(key.name);
    return undefined;
  });
  await serveV1(t, { serving: { ...FAST.serving, autoscaling: { maxReplicas: 4 } } });
  const hpaKey = { namespace: 'ml', name: 'fraud-v1' };
  expect(t.cluster.get(HPA, hpaKey)).toBeDefined();
  expect(deletes).toEqual([]);
  await t.cluster.client.patch(MV, hpaKey, { spec: { serving: { autoscaling: null } } });
  await t.settle();
  expect(t.cluster.get(HPA, hpaKey)).toBeUndefined();
  expect(deletes).toEqual(['fraud-v1']);
});

test('deleting the canary: traffic back on the stable, then the finalizer goes; deleting the last version removes the routing', async () => {
  const t = await serving();
  await startCanary(t);
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

// Not its own: no controller reference with this version's uid. Its ready pods are not the version's either.
test.each([
  ['Deployment', 'without owner references', [DEPLOYMENT], () => undefined],
  ['Deployment', 'with an empty list of owners', [DEPLOYMENT], () => []],
  ['Deployment', 'controlled by another object', [DEPLOYMENT], () => [{ uid: 'uid-other', controller: true }]],
  [
    'Deployment',
    'owned by this version but not as controller',
    [DEPLOYMENT],
    (uid: string) => [{ uid, controller: false }],
  ],
  ['Service', 'controlled by another object', [SERVICE], () => [{ uid: 'uid-other', controller: true }]],
  [
    'Deployment',
    'controlled by another object, and a Service too',
    [DEPLOYMENT, SERVICE],
    () => [{ uid: 'uid-other', controller: true }],
  ],
] as const)(
  'a %s of the same name %s: Failed NameConflict, the objects left alone',
  async (kind, _case, refs, owners) => {
    const t = setup();
    t.apply('fraud-v1');
    const ownerReferences = owners(t.mv('fraud-v1').metadata.uid!)?.map((o) => ({
      apiVersion: 'modelops.dev/v1alpha1',
      kind: 'ModelVersion',
      name: 'fraud-v1',
      ...o,
    }));
    const foreign = { metadata: { name: 'fraud-v1', namespace: 'ml', ownerReferences }, spec: { replicas: 7 } };
    for (const ref of refs)
      t.cluster.seed(ref, { ...foreign, status: { replicas: 7, readyReplicas: 7 } } as KubernetesObject);
    await t.settle();
    expect(t.mv('fraud-v1').status).toMatchObject({ phase: 'Failed', readyReplicas: 0 });
    expect(t.cond('fraud-v1', 'Degraded')).toMatchObject({
      reason: 'NameConflict',
      message: `${kind} fraud-v1 exists and is not owned by this ModelVersion`,
    });
    for (const ref of refs)
      expect(t.cluster.get<Wire<V1Deployment>>(ref, { namespace: 'ml', name: 'fraud-v1' })!.spec).toEqual({
        replicas: 7,
      });
    expect(t.cluster.writes.filter((w) => w.resource !== 'modelversions.modelops.dev/v1alpha1')).toEqual([]);
  },
);

test('a retry annotation from kubectl restarts a rolled-back version; the same value again does nothing', async () => {
  const t = await serving();
  t.prometheus.errorRate.v2 = 0.5;
  await startCanary(t);
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

describe('what wakes a model', () => {
  const t = setup();
  const ctx = t.cluster.context(t.controller);
  const [services, routes] = t.controller.watches!;

  test('a ModelVersion wakes its model; one without a model or a namespace, nothing (and no throw)', () => {
    const { resource, map } = t.controller.for as ForSpec;
    expect(resource).toBe(MV);
    expect(map!(modelVersion('fraud-v1'), ctx.cache)).toEqual([KEY]);
    expect(map!({ metadata: { namespace: 'ml', name: 'x' } }, ctx.cache)).toEqual([]);
    expect(map!({ spec: { model: 'fraud' } } as KubernetesObject, ctx.cache)).toEqual([]);
    expect(map!({ metadata: { name: 'x' }, spec: { model: 'fraud' } } as KubernetesObject, ctx.cache)).toEqual([]);
  });

  test("it owns its versions' Deployments, Services and autoscalers; Gateway API is optional (a cluster without it runs)", () => {
    expect(t.controller.name).toBe('modelversion');
    expect(t.controller.owns).toEqual([DEPLOYMENT, SERVICE, HPA]);
    expect(services).toMatchObject({ resource: SERVICE });
    expect(routes).toMatchObject({ resource: HTTP_ROUTE, optional: true });
  });

  test.each([
    [
      'the model’s Service, by its labels',
      { 'modelops.dev/model': 'fraud', 'app.kubernetes.io/managed-by': 'modelops' },
      undefined,
      [KEY],
    ],
    [
      'a Service labelled for the model by someone else',
      { 'modelops.dev/model': 'fraud', 'app.kubernetes.io/managed-by': 'helm' },
      undefined,
      [],
    ],
    ['a Service of ours without the model label', { 'app.kubernetes.io/managed-by': 'modelops' }, undefined, []],
    [
      'a version’s own Service (it has an owner)',
      { 'modelops.dev/model': 'fraud', 'app.kubernetes.io/managed-by': 'modelops' },
      [{ uid: 'u' }],
      [],
    ],
    ['an object without metadata', undefined, undefined, []],
  ])('%s', (_case, labels, ownerReferences, keys) => {
    const obj = (
      labels ? { metadata: { namespace: 'ml', name: 'fraud', labels, ownerReferences } } : {}
    ) as KubernetesObject;
    expect(services!.map(obj, ctx.cache)).toEqual(keys);
    expect(routes!.map({ metadata: { namespace: 'ml', name: 'fraud' }, ...obj }, ctx.cache)).toEqual(keys);
  });

  test("an existing HTTPRoute named by a version's spec wakes that version's model alone; before the versions' cache has synced, nothing (and no throw)", () => {
    const shop = { serving: { traffic: { gatewayAPI: { httpRoute: 'shop' } } } };
    t.apply('fraud-v1', { ...FAST, ...shop } as never);
    // Versions that name no route, another route, or the same route in another namespace.
    t.cluster.seed(
      MV,
      modelVersion('churn-v1', { model: 'churn' }),
      modelVersion('churn-v2', { model: 'churn', serving: {} }),
      modelVersion('churn-v3', { model: 'churn', serving: { traffic: {} } }),
      modelVersion('churn-v4', { model: 'churn', serving: { traffic: { gatewayAPI: { httpRoute: 'other' } } } }),
      modelVersion('churn-v5', { model: 'churn', ...shop }, undefined, { namespace: 'other' }),
    );
    const route = { metadata: { namespace: 'ml', name: 'shop' } };
    expect(routes!.map(route, ctx.cache)).toEqual([KEY]);
    t.cluster.setAvailable(MV, false);
    expect(routes!.map(route, ctx.cache)).toEqual([]);
  });
});

test("a pass reads its model's versions in its namespace alone: another model's, or another namespace's, are left alone", async () => {
  const t = setup();
  // Versions without serving settings, or without Gateway API: their spec names no route.
  t.apply('fraud-v1', {});
  t.apply('fraud-v2', { serving: { traffic: {} } });
  t.cluster.seed(
    MV,
    modelVersion('churn-v1', { model: 'churn' }),
    modelVersion('fraud-v1', {}, undefined, { namespace: 'other' }),
  );
  await t.settle();
  expect(t.cluster.list(DEPLOYMENT).map((d) => `${d.metadata!.namespace}/${d.metadata!.name}`)).toEqual([
    'ml/fraud-v1',
    'ml/fraud-v2',
  ]);
  expect(t.mv('churn-v1').status).toBeUndefined();
});

test.each([
  ['without labels', {}],
  [
    'labelled by modelops for another model',
    { 'modelops.dev/model': 'churn', 'app.kubernetes.io/managed-by': 'modelops' },
  ],
])(
  'a Service named after the model that is not its own (%s): Degraded NameConflict, the Service left alone',
  async (_case, labels) => {
    const t = setup();
    const foreign = { metadata: { namespace: 'ml', name: 'fraud', labels }, spec: { selector: { app: 'web' } } };
    t.cluster.seed(SERVICE, foreign as KubernetesObject);
    await serveV1(t);
    expect(t.cond('fraud-v1', 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'NameConflict',
      message: 'Service fraud exists and was not made by modelops for this model',
    });
    expect(t.cluster.get<Wire<V1Service>>(SERVICE, KEY)!.spec!.selector).toEqual({ app: 'web' });
    expect(t.selectors).toEqual([]);
    // Deleting the last version removes only what modelops made: not this Service, nor a route of the model's name.
    t.cluster.seed(HTTP_ROUTE, { metadata: { namespace: 'ml', name: 'fraud' }, spec: {} } as KubernetesObject);
    await t.cluster.client.delete(MV, { namespace: 'ml', name: 'fraud-v1' });
    await t.reconcile();
    t.advance(DRAIN_MS / 1000);
    await t.reconcile();
    expect(t.mv('fraud-v1')).toBeUndefined();
    expect(t.cluster.get(SERVICE, KEY)).toBeDefined();
    expect(t.cluster.get(HTTP_ROUTE, KEY)).toBeDefined();
  },
);

test('an existing HTTPRoute named by the spec: only its rules for the model are rewritten, by an update; then it is left alone', async () => {
  const t = setup();
  const shop = { namespace: 'ml', name: 'shop' };
  t.cluster.seed(HTTP_ROUTE, {
    metadata: shop,
    spec: {
      parentRefs: [{ name: 'edge' }],
      rules: [{ backendRefs: [{ name: 'docs', port: 80 }] }, { backendRefs: [{ name: 'fraud', port: 80 }] }],
    },
  } as KubernetesObject);
  await serveV1(t, { serving: { ...FAST.serving, traffic: { gatewayAPI: { httpRoute: 'shop' } } } });
  const route = t.cluster.get<HTTPRoute>(HTTP_ROUTE, shop)!;
  expect(route.spec.parentRefs).toEqual([{ name: 'edge' }]);
  expect(route.spec.rules).toEqual([
    { backendRefs: [{ name: 'docs', port: 80 }] },
    { backendRefs: [{ name: 'fraud-v1', port: 80, weight: 100 }] },
  ]);
  expect(t.cluster.writes.filter((w) => w.resource.startsWith('httproutes')).map((w) => w.verb)).toEqual(['update']);
});

test.each([
  [
    'already gone (404): the version is released all the same',
    new NotFoundError(404, 'NotFound', 'services "fraud" not found'),
    undefined,
  ],
  [
    'refused by a server error: thrown, for the runtime to retry',
    new ApiError(500, 'InternalError', 'etcd timeout'),
    'etcd timeout',
  ],
])('deleting the last version, the model Service %s', async (_case, error, thrown) => {
  const t = await serving();
  t.cluster.interceptWrites((w) => (w.verb === 'delete' && w.ref === SERVICE ? error : undefined));
  await t.cluster.client.delete(MV, { namespace: 'ml', name: 'fraud-v1' });
  const passes = async () => {
    await t.reconcile();
    t.advance(DRAIN_MS / 1000);
    await t.reconcile();
  };
  if (thrown) {
    await expect(passes()).rejects.toThrow(thrown);
    expect(t.mv('fraud-v1').metadata.finalizers).toEqual(['modelops.dev/traffic']);
  } else {
    await passes();
    expect(t.mv('fraud-v1')).toBeUndefined();
  }
});

test("without an injected client: Prometheus at the operator's --prometheus-url, over HTTP (refused: Degraded MetricsUnavailable naming it)", async () => {
  const url = await refusedUrl();
  const t = await serving({ ...SETTINGS, prometheusUrl: url }, {});
  await startCanary(t);
  expect(t.cond('fraud-v2', 'Degraded')).toMatchObject({
    status: 'True',
    reason: 'MetricsUnavailable',
    message: expect.stringMatching(`^Prometheus ${url}: unreachable for query .*ECONNREFUSED`),
  });
});

test('a canary whose prediction scores moved from the stable’s is rolled back by the prediction-shift check (PSI of operator/src/statistics)', async () => {
  const t = await serving();
  t.prometheus.scores = { v1: [500, 1000, 1000], v2: [50, 1000, 1000] };
  await startCanary(t);
  t.advance(5);
  await t.settle();
  expect(t.mv('fraud-v2').status?.phase).toBe('RolledBack');
  expect(t.cluster.events.at(-1)).toMatchObject({
    type: 'Warning',
    reason: 'RolledBack',
    message: expect.stringMatching(
      /^prediction-shift: PSI 1\.32 between canary and stable scores .*all traffic back on v1$/,
    ),
  });
});

// The stable's status first (a promotion: see the Events' order above, Promoted before Retired), so that a crash
// between two writes leaves two stables (the one promoted last wins) and never none; the rest in the plan's order.
test('statuses written in one pass: besides the stable, oldest first (a newer version supersedes the canary)', async () => {
  const t = await serving();
  await startCanary(t);
  t.apply('fraud-v3');
  await t.reconcile(); // v3's Deployment alone
  t.cluster.writes.length = 0;
  await t.reconcile();
  expect(t.cluster.writes.filter((w) => w.verb === 'updateStatus').map((w) => w.key.name)).toEqual([
    'fraud-v1',
    'fraud-v2',
    'fraud-v3',
  ]);
  expect(t.mv('fraud-v2').status?.phase).toBe('Superseded');
});

test("a pass that finds a version's Deployment gone writes it alone and asks Prometheus nothing, though the canary's analysis is due; the next pass analyses", async () => {
  const t = await serving();
  await startCanary(t);
  t.prometheus.errorRate.v2 = 0.3;
  t.advance(5);
  await t.cluster.client.delete(DEPLOYMENT, { namespace: 'ml', name: 'fraud-v1' }); // someone deleted the stable's
  const asked = t.prometheus.queries.length;
  t.cluster.writes.length = 0;
  await t.reconcile();
  expect(t.cluster.writes.map((w) => `${w.verb} ${w.key.name}`)).toEqual(['create fraud-v1']);
  expect(t.prometheus.queries.length).toBe(asked);
  await t.reconcile();
  expect(t.prometheus.queries.length).toBeGreaterThan(asked);
  expect(t.mv('fraud-v2').status).toMatchObject({ phase: 'RolledBack', weight: 0 });
});

test('capacity before traffic: the promoted canary grows to full size before the model Service sends it everything', async () => {
  const steps = [
    { weight: 25, pauseSeconds: 0 },
    { weight: 100, pauseSeconds: 0 },
  ];
  const spec = { serving: { ...FAST.serving, replicas: 4, rollout: { ...FAST.serving!.rollout, steps } } };
  const t = setup();
  const passes = recordPasses(t);
  await serveV1(t, spec);
  expect(await rollOut(t, 'fraud-v2', spec, passes)).toEqual([
    ['fraud-v2 0->1'],
    ['model Service modelops-serving,fraud'],
    ['fraud-v2 1->4', 'model Service fraud-v2'],
  ]);
});

test("an autoscaled stable that its HPA grew keeps those pods through the scale-down delay, not its spec's count", async () => {
  const steps = [{ weight: 50, pauseSeconds: 0 }];
  const spec = {
    serving: {
      ...FAST.serving,
      replicas: 2,
      autoscaling: { maxReplicas: 10 },
      rollout: { ...FAST.serving!.rollout, steps },
    },
  };
  const t = setup();
  const passes = recordPasses(t);
  await serveV1(t, spec);
  // The HPA's part: v1 grown to 10 pods.
  const v1 = t.cluster.get<Wire<V1Deployment>>(DEPLOYMENT, { namespace: 'ml', name: 'fraud-v1' })!;
  await t.cluster.client.update(DEPLOYMENT, { ...v1, spec: { ...v1.spec!, replicas: 10 } });
  expect(await rollOut(t, 'fraud-v2', spec, passes)).toEqual([
    ['fraud-v2 0->10'],
    ['model Service modelops-serving,fraud'],
    // Promoted: v1, retired, keeps the 10 pods its HPA made (not its spec's 2) while the Service moves to v2.
    ['model Service fraud-v2'],
  ]);
  expect(t.mv('fraud-v1').status).toMatchObject({ phase: 'Retired', replicas: 10 });
  expect(t.cluster.get(HPA, { namespace: 'ml', name: 'fraud-v1' })).toBeUndefined();
});

test("a retired version's pods go before a replica-ratio canary's selector of every version's pods reaches them, and do not come back", async () => {
  const steps = [
    { weight: 25, pauseSeconds: 0 },
    { weight: 100, pauseSeconds: 0 },
  ];
  const rollout = { ...FAST.serving!.rollout, steps, scaleDownDelaySeconds: 600 };
  const spec = { serving: { ...FAST.serving, replicas: 4, rollout } };
  const t = setup();
  const passes = recordPasses(t);
  await serveV1(t, spec);
  expect(await rollOut(t, 'fraud-v2', spec, passes)).toEqual([
    ['fraud-v2 0->1'],
    ['model Service modelops-serving,fraud'],
    ['fraud-v2 1->4', 'model Service fraud-v2'],
  ]);
  // v1 retired, its pods kept for the scale-down delay; v3's canary would select them: they go first.
  expect(await rollOut(t, 'fraud-v3', spec, passes)).toEqual([
    ['fraud-v3 0->1'],
    ['fraud-v1 4->0', 'model Service modelops-serving,fraud'],
    ['fraud-v3 1->4', 'model Service fraud-v3'],
  ]);
});

test('a second ModelVersion of a served version: Failed DuplicateVersion; unlike a name conflict, its own objects are written, without pods', async () => {
  const t = await serving();
  t.cluster.seed(MV, {
    ...modelVersion('fraud-v1-again', { ...FAST, version: 'v1' }),
    metadata: { name: 'fraud-v1-again', namespace: 'ml' },
  });
  await t.settle();
  expect(t.mv('fraud-v1-again').status).toMatchObject({ phase: 'Failed' });
  expect(t.cond('fraud-v1-again', 'Degraded')).toMatchObject({ reason: 'DuplicateVersion' });
  const key = { namespace: 'ml', name: 'fraud-v1-again' };
  expect(t.cluster.get<Wire<V1Deployment>>(DEPLOYMENT, key)!.spec!.replicas).toBe(0);
  expect(t.cluster.get(SERVICE, key)).toBeDefined();
  expect(t.selector()).toEqual({ 'modelops.dev/modelversion': 'fraud-v1' });
});
