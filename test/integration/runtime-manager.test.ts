// The controller runtime on the real test bed: a small "Widget" controller (a test CRD owning a
// ConfigMap, writing status through the StatusWriter, recording Events) run by real Managers.
//   1. watches resume after a kube-apiserver restart and nothing is missed
//   2. with leader election exactly one of two Managers reconciles; takeover without and with release
//   3. an idle operator writes nothing across several resyncs
// The three run in one file, in order: restarting the API server must not disturb the other two.
import pino from 'pino';
import { Registry } from 'prom-client';
import { kubeConfig, kubectl, restartApiServer, useNamespace, waitFor } from '../harness/cluster.js';
import {
  controllerReference,
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

/** The Widget reconciler: ConfigMap `<name>` mirrors spec.value; status says what was observed. */
function widgetController(reconciled: ObjectKey[] = []): ControllerOptions {
  return {
    name: 'widget',
    for: WIDGET,
    owns: [CONFIGMAP],
    workers: 2,
    async reconcile(ctx: ReconcileContext, key: ObjectKey) {
      reconciled.push(key);
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

test('leader election: exactly one of two managers reconciles; takeover without and with release', async () => {
  const lease = {
    leaseName: `rt-${ns.name}`,
    namespace: ns.name,
    leaseDurationMs: 6_000,
    renewDeadlineMs: 4_000,
    retryPeriodMs: 1_000,
  };
  const reconciledBy = { a: [] as ObjectKey[], b: [] as ObjectKey[], c: [] as ObjectKey[] };
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
  await waitFor(
    `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases`,
    (l) => (l as { spec?: { holderIdentity?: string } }).spec?.holderIdentity === 'a',
    'a holds the lease',
  );
  await b.start();
  await createWidget(a, 'le-1', 'x');
  await widgetObserved('le-1', 'x');
  expect(a.isLeader()).toBe(true);
  expect(b.isLeader()).toBe(false);
  expect(reconciledBy.a.length).toBeGreaterThan(0);
  expect(reconciledBy.b).toEqual([]);
  expect(await metricSum(a.registry, 'leader_election_master_status')).toBe(1);
  expect(await metricSum(b.registry, 'leader_election_master_status')).toBe(0);
  // a standby is ready too (its caches are warm)
  expect((await fetch(`http://127.0.0.1:${b.ports.health}/readyz`)).status).toBe(200);

  // "Kill" the leader: it stops without releasing the Lease, as a crashed process would.
  const killedAt = performance.now();
  await a.stop();
  await createWidget(b, 'le-2', 'y');
  await widgetObserved('le-2', 'y', 20_000);
  const takeover = (performance.now() - killedAt) / 1000;
  console.log(
    `takeover after the leader died without releasing: ${takeover.toFixed(2)} s (lease duration 6 s, retry period 1 s)`,
  );
  expect(b.isLeader()).toBe(true);
  expect(takeover).toBeLessThan(6 + 2 * 1 * 2.2 + 1);

  // Now a graceful stop: the Lease is released and the standby takes over within a retry period or two.
  const c = candidate('c', true);
  await c.start();
  const releasedAt = performance.now(); // timed from the start of the graceful stop
  await b.stop();
  await createWidget(c, 'le-3', 'z');
  await widgetObserved('le-3', 'z', 20_000);
  const handover = (performance.now() - releasedAt) / 1000;
  console.log(`takeover after the leader released the lease: ${handover.toFixed(2)} s`);
  // one jittered retry period (≤ 2.2 s) plus the reconcile: well inside the 6 s a crash costs
  expect(handover).toBeLessThan(1 * 2.2 + 2.5);
  expect(reconciledBy.c.length).toBeGreaterThan(0);
}, 90_000);

test('an idle operator sends no writes across several resyncs', async () => {
  const reconciled: ObjectKey[] = [];
  const resyncPeriodMs = 1_000;
  const manager = newManager({ resyncPeriodMs, metricsPort: 0 });
  manager.addController(widgetController(reconciled));
  await manager.start();
  const names = ['idle-1', 'idle-2', 'idle-3'];
  await Promise.all(names.map((n) => createWidget(manager, n, 'v')));
  const settled = await Promise.all(names.map((n) => widgetObserved(n, 'v')));
  // Let the watch events of our own writes (status, ConfigMap) come back and be reconciled.
  await waitForQueueIdle(manager);

  const writesBefore = await writes(manager.registry);
  const reconcilesBefore = reconciled.filter((k) => k.namespace === ns.name).length;
  // Observe three full resync periods: each re-reconciles every widget (bounded wait on the count).
  await waitUntil(
    () => reconciled.filter((k) => k.namespace === ns.name).length >= reconcilesBefore + 3 * names.length,
    3 * resyncPeriodMs + 5_000,
  );
  const observedReconciles = reconciled.filter((k) => k.namespace === ns.name).length - reconcilesBefore;

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

/** Waits (bounded) until the widget queue is empty and no worker is busy. */
async function waitForQueueIdle(manager: Manager): Promise<void> {
  await waitUntil(
    async () =>
      (await metricSum(manager.registry, 'workqueue_depth')) === 0 &&
      (await metricSum(manager.registry, 'controller_runtime_active_workers')) === 0,
    10_000,
  );
}

/** For in-process state only (metrics, counters): checks every 50 ms, fails after `timeoutMs`. */
async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
