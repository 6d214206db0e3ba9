// The controller runtime on the real test bed: a small "Widget" controller (a test CRD owning a
// ConfigMap, writing status through the StatusWriter, recording Events) run by real Managers.
//   1. watches resume after a kube-apiserver restart and nothing is missed
//   2. with leader election exactly one of two Managers reconciles; takeover without and with release
//   3. an idle operator writes nothing across several resyncs
//   4. the cache drops managedFields; a write into a namespace being deleted is recognised
// The three run in one file, in order: restarting the API server must not disturb the other two.
import pino from 'pino';
import { Registry } from 'prom-client';
import {
  kubeConfig,
  kubectl,
  restartApiServer,
  restartControllers,
  useNamespace,
  waitFor,
} from '../harness/cluster.js';
import {
  controllerReference,
  isNamespaceTerminating,
  Manager,
  type ControllerOptions,
  type KubernetesObject,
  type ManagerOptions,
  type ObjectKey,
  type ReconcileContext,
  type ResourceRef,
} from '../../operator/src/runtime/index.js';

const WIDGET: ResourceRef = {
  group: 'runtime-test.modelops.dev',
  version: 'v1',
  plural: 'widgets',
  kind: 'Widget',
  namespaced: true,
};
const CONFIGMAP: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
const NAMESPACE: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
const HOLD = 'runtime-test.modelops.dev/hold';
const CRD: ResourceRef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

type Widget = KubernetesObject & {
  spec: { value: string };
  status?: { observedValue?: string; conditions?: { type: string; status: string }[] };
};

const ns = useNamespace('rt');
const log = pino({ level: process.env.RUNTIME_TEST_LOG ?? 'silent' });
const managers: Manager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

beforeAll(async () => {
  const manager = newManager();
  await manager.client.apply(CRD, widgetCrd());
  await waitFor(
    `/apis/apiextensions.k8s.io/v1/customresourcedefinitions`,
    (crd) => crd.metadata?.name === 'widgets.runtime-test.modelops.dev' && established(crd),
    'Widget CRD established',
  );
  await manager.stop();
});

// The kube-apiserver restart below leaves the bed's own components reconnecting with backoff; the next test
// file must not wait for their lag (a CI run once waited over 60 s for kube-proxy to route a new Service).
afterAll(() => restartControllers(), 120_000);

/** Reconcile keys as they happen, with a way to wait for a count (no polling). */
class Reconciled {
  readonly keys: ObjectKey[] = [];
  private waiters: (() => void)[] = [];

  record(key: ObjectKey): void {
    this.keys.push(key);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Reconciles of `name` in this file's namespace so far. */
  count(name?: string): number {
    return this.keys.filter((k) => k.namespace === ns.name && (name === undefined || k.name === name)).length;
  }

  /** Resolves once every one of `names` has been reconciled at least `n` times. */
  async atLeast(names: string[], n: number): Promise<void> {
    while (!names.every((name) => this.count(name) >= n)) await new Promise<void>((r) => this.waiters.push(r));
  }
}

/** The Widget reconciler: ConfigMap `<name>` mirrors spec.value; status says what was observed. */
function widgetController(reconciled = new Reconciled()): ControllerOptions {
  return {
    name: 'widget',
    for: WIDGET,
    owns: [CONFIGMAP],
    workers: 2,
    async reconcile(ctx: ReconcileContext, key: ObjectKey) {
      reconciled.record(key);
      const widget = ctx.cache.get<Widget>(WIDGET, key);
      if (!widget || widget.metadata?.namespace !== ns.name) return;
      const value = widget.spec.value;
      const cm = ctx.cache.get(CONFIGMAP, key) as (KubernetesObject & { data?: Record<string, string> }) | undefined;
      if (!cm) {
        await ctx.client.create(CONFIGMAP, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { ...key, ownerReferences: [controllerReference(WIDGET, widget)] },
          data: { value },
        });
      } else if (cm.data?.value !== value) {
        await ctx.client.patch(CONFIGMAP, key, { data: { value } });
      }
      const changed = await ctx.status.update(WIDGET, widget, {
        observedValue: value,
        conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: `value ${value}` }],
      });
      if (changed) await ctx.recorder.event(widget, 'Normal', 'Synced', `value ${value}`);
    },
  };
}

function newManager(opts: Partial<ManagerOptions> = {}): Manager {
  const manager = new Manager({ kubeConfig: kubeConfig(), logger: log, ...opts });
  managers.push(manager);
  return manager;
}

async function createWidget(manager: Manager, name: string, value: string): Promise<void> {
  await manager.client.create(WIDGET, {
    apiVersion: 'runtime-test.modelops.dev/v1',
    kind: 'Widget',
    metadata: { namespace: ns.name, name },
    spec: { value },
  });
}

function widgetObserved(name: string, value: string, timeoutMs = 30_000): Promise<Widget> {
  return waitFor<Widget>(
    `/apis/runtime-test.modelops.dev/v1/namespaces/${ns.name}/widgets`,
    (w) => w.metadata?.name === name && w.status?.observedValue === value,
    `widget ${name} observed ${value}`,
    { timeoutMs },
  );
}

async function metricSum(
  registry: Registry,
  name: string,
  filter: (labels: Partial<Record<string, string | number>>) => boolean = () => true,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  return (await metric.get()).values.filter((v) => filter(v.labels)).reduce((sum, v) => sum + v.value, 0);
}

const writes = (registry: Registry): Promise<number> =>
  metricSum(registry, 'rest_client_requests_total', (l) => l.method !== 'GET');

test('a reconcile loop survives a kube-apiserver restart: watches resume and nothing is missed', async () => {
  const manager = newManager();
  manager.addController(widgetController());
  await manager.start();
  await createWidget(manager, 'before', '1');
  await widgetObserved('before', '1');

  const startedBefore = await apiServerStartTime();
  const down = performance.now();
  await restartApiServer();
  expect(await apiServerStartTime()).not.toBe(startedBefore); // it really was a new process
  // Right after the restart, before the informers have re-established their watches:
  await createWidget(manager, 'after', '1');
  await manager.client.patch(WIDGET, { namespace: ns.name, name: 'before' }, { spec: { value: '2' } });
  await Promise.all([widgetObserved('after', '1'), widgetObserved('before', '2')]);
  const recovered = (performance.now() - down) / 1000;
  console.log(`apiserver restart → both changes reconciled in ${recovered.toFixed(1)} s`);

  const cm = await manager.client.get<KubernetesObject & { data: Record<string, string> }>(CONFIGMAP, {
    namespace: ns.name,
    name: 'before',
  });
  expect(cm.data.value).toBe('2');
  expect(manager.isReady()).toBe(true);
}, 90_000);

/**
 * The Lease's holders in the order they were written, from now until `until` holds it. `primed`
 * resolves once the current holder has been read: every later change is seen from there on.
 */
function holdersUntil(leaseName: string, until: string): { primed: Promise<void>; holders: Promise<string[]> } {
  const holders: string[] = [];
  let primed!: () => void;
  const primedPromise = new Promise<void>((r) => (primed = r));
  const done = waitFor<{ metadata?: { name?: string }; spec?: { holderIdentity?: string } }>(
    `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases`,
    (l) => {
      if (l.metadata?.name !== leaseName) return false;
      const holder = l.spec?.holderIdentity ?? '';
      if (holders.at(-1) !== holder) holders.push(holder);
      primed();
      return holder === until;
    },
    `${until} holds the lease`,
  ).then(() => holders);
  return { primed: primedPromise, holders: done };
}

test('leader election: exactly one of two managers reconciles; takeover without and with release', async () => {
  const lease = {
    leaseName: `rt-${ns.name}`,
    namespace: ns.name,
    leaseDurationMs: 6_000,
    renewDeadlineMs: 4_000,
    retryPeriodMs: 1_000,
  };
  const reconciledBy = { a: new Reconciled(), b: new Reconciled(), c: new Reconciled() };
  const candidate = (id: 'a' | 'b' | 'c', releaseOnStop: boolean) => {
    const m = newManager({
      leaderElection: { ...lease, identity: id, releaseOnStop },
      healthPort: 0,
      onLeadershipLost: () => {},
    });
    m.addController(widgetController(reconciledBy[id]));
    return m;
  };
  const a = candidate('a', false);
  const b = candidate('b', true);
  await a.start();
  await holdersUntil(lease.leaseName, 'a').holders;
  await b.start();
  await createWidget(a, 'le-1', 'x');
  await widgetObserved('le-1', 'x');
  expect(a.isLeader()).toBe(true);
  expect(b.isLeader()).toBe(false);
  expect(reconciledBy.a.count('le-1')).toBeGreaterThan(0);
  expect(reconciledBy.b.count()).toBe(0);
  expect(await metricSum(a.registry, 'leader_election_master_status')).toBe(1);
  expect(await metricSum(b.registry, 'leader_election_master_status')).toBe(0);
  // a standby is ready too (its caches are warm)
  expect((await fetch(`http://127.0.0.1:${b.ports.health}/readyz`)).status).toBe(200);

  // "Kill" the leader: it stops without releasing the Lease, as a crashed process would. The standby
  // takes over only once the Lease has gone unrenewed for its duration: nobody releases it in between.
  const killedAt = performance.now();
  const crashHandover = holdersUntil(lease.leaseName, 'b');
  await crashHandover.primed;
  await a.stop();
  expect(await crashHandover.holders).toEqual(['a', 'b']);
  await createWidget(b, 'le-2', 'y');
  await widgetObserved('le-2', 'y');
  console.log(
    `takeover after the leader died without releasing: ${((performance.now() - killedAt) / 1000).toFixed(2)} s (lease duration 6 s, retry period 1 s)`,
  );
  expect(b.isLeader()).toBe(true);
  expect(reconciledBy.b.count('le-2')).toBeGreaterThan(0);

  // Now a graceful stop: the Lease is released (no holder) and the standby takes it from there.
  const c = candidate('c', true);
  await c.start();
  const releasedAt = performance.now(); // timed from the start of the graceful stop
  const gracefulHandover = holdersUntil(lease.leaseName, 'c');
  await gracefulHandover.primed;
  await b.stop();
  expect(await gracefulHandover.holders).toEqual(['b', '', 'c']);
  await createWidget(c, 'le-3', 'z');
  await widgetObserved('le-3', 'z');
  console.log(
    `takeover after the leader released the lease: ${((performance.now() - releasedAt) / 1000).toFixed(2)} s`,
  );
  expect(reconciledBy.c.count('le-3')).toBeGreaterThan(0);
}, 90_000);

test('an idle operator sends no writes across several resyncs', async () => {
  const reconciled = new Reconciled();
  const resyncPeriodMs = 1_000;
  const manager = newManager({ resyncPeriodMs, metricsPort: 0 });
  manager.addController(widgetController(reconciled));
  await manager.start();
  const names = ['idle-1', 'idle-2', 'idle-3'];
  await Promise.all(names.map((n) => createWidget(manager, n, 'v')));
  const settled = await Promise.all(names.map((n) => widgetObserved(n, 'v')));
  // The events of our own writes (status, ConfigMap) are reconciled within the next resync round:
  // once every widget has been reconciled once more after that round, the writes are all counted.
  await reconciled.atLeast(names, Math.max(...names.map((n) => reconciled.count(n))) + 1);

  const writesBefore = await writes(manager.registry);
  const reconcilesBefore = reconciled.count();
  // Three more full resync rounds: each re-reconciles every widget.
  await reconciled.atLeast(names, Math.max(...names.map((n) => reconciled.count(n))) + 3);
  const observedReconciles = reconciled.count() - reconcilesBefore;

  expect(await writes(manager.registry)).toBe(writesBefore);
  for (const w of settled) {
    const now = await manager.client.get<Widget>(WIDGET, { namespace: ns.name, name: w.metadata!.name! });
    expect(now.metadata?.resourceVersion).toBe(w.metadata?.resourceVersion);
  }
  console.log(
    `idle: ${observedReconciles} resync reconciles, ${(await writes(manager.registry)) - writesBefore} writes`,
  );

  // One Event per widget: the first sync, not one per pass.
  const events = await manager.client.list(EVENTS, { namespace: ns.name });
  for (const n of names)
    expect(events.items.filter((e) => (e as { regarding?: { name?: string } }).regarding?.name === n)).toHaveLength(1);

  const metrics = await (await fetch(`http://127.0.0.1:${manager.ports.metrics}/metrics`)).text();
  for (const name of [
    'controller_runtime_reconcile_total',
    'controller_runtime_reconcile_time_seconds_bucket',
    'workqueue_adds_total',
    'workqueue_depth',
    'controller_runtime_active_workers',
  ]) {
    expect(metrics).toContain(name);
  }
}, 90_000);

test("the cache keeps no managedFields, and a status written from a cached object keeps the API server's", async () => {
  const manager = newManager();
  manager.addController(widgetController());
  await manager.start();
  const key = { namespace: ns.name, name: 'fields' };
  await createWidget(manager, key.name, '1');
  await widgetObserved(key.name, '1');
  await manager.client.patch(WIDGET, key, { spec: { value: '2' } }); // and a second status write
  await widgetObserved(key.name, '2');
  expect(manager.cache.get(WIDGET, key)?.metadata).not.toHaveProperty('managedFields');
  // The status PUTs sent the cached object without managedFields: the API server kept what it had.
  const served = await manager.client.get(WIDGET, key);
  const managers = (served.metadata?.managedFields as { manager: string; subresource?: string }[]).map(
    (m) => `${m.manager}${m.subresource ? `/${m.subresource}` : ''}`,
  );
  expect(managers.sort()).toEqual(['modelops', 'modelops-widget/status']);
});

test("a write into a namespace being deleted is told apart by the API server's own answer (not retried)", async () => {
  const manager = newManager();
  const doomed = `${ns.name}-doomed`;
  const holder = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'holder', namespace: doomed } };
  await manager.client.create(NAMESPACE, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: doomed } });
  // A finalizer keeps the namespace Terminating for as long as the test needs it.
  await manager.client.create(CONFIGMAP, { ...holder, metadata: { ...holder.metadata, finalizers: [HOLD] } });
  await manager.client.delete(NAMESPACE, { name: doomed });
  try {
    const refused = await manager.client
      .apply(CONFIGMAP, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'new', namespace: doomed } })
      .catch((err: unknown) => err);
    expect(refused).toMatchObject({ status: 403 });
    expect(isNamespaceTerminating(refused)).toBe(true);
  } finally {
    await manager.client.patch(CONFIGMAP, { namespace: doomed, name: 'holder' }, { metadata: { finalizers: null } });
  }
});

/** The kube-apiserver's process_start_time_seconds: tells whether a restart really happened. */
async function apiServerStartTime(): Promise<string | undefined> {
  const { stdout } = await kubectl(['get', '--raw', '/metrics']);
  return /^process_start_time_seconds (\S+)$/m.exec(stdout)?.[1];
}

const EVENTS: ResourceRef = {
  group: 'events.k8s.io',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
  namespaced: true,
};

function established(crd: object): boolean {
  const conditions =
    ((crd as { status?: unknown }).status as { conditions?: { type: string; status: string }[] } | undefined)
      ?.conditions ?? [];
  return conditions.some((c) => c.type === 'Established' && c.status === 'True');
}

function widgetCrd(): KubernetesObject {
  const openObject = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.runtime-test.modelops.dev' },
    spec: {
      group: 'runtime-test.modelops.dev',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: openObject, status: openObject } } },
        },
      ],
    },
  };
}
