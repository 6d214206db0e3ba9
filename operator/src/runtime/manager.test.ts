// The Manager's HTTP endpoints and lifecycle against a local stand-in API server.
import http from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { localKubeConfig } from './test-kubeconfig.test-helpers.js';
import pino from 'pino';
import { FakeClock } from './testing/fake-clock.js';
import { ReconcileAbortedError, ResourceUnavailableError } from './errors.js';
import { leasesRef } from './leader-election.js';
import { Manager, type ManagerOptions } from './manager.js';
import { byField, byLabel } from './store/indexes.js';
import { StandInApiServer } from './test-apiserver.test-helpers.js';
import type { ControllerOptions } from './controller.js';
import type { ResourceRef } from './types.js';

const WIDGETS: ResourceRef = {
  group: 'example.dev',
  version: 'v1',
  plural: 'widgets',
  kind: 'Widget',
  namespaced: true,
};

let server: http.Server;
let releaseList: () => void = () => {};
const listReleased = new Promise<void>((r) => (releaseList = r));

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.searchParams.get('watch') === 'true')
      return void res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders(); // idle watch
    void listReleased.then(() =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: [] })),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('healthz at once, readyz once caches sync, metrics from its own registry; stop closes the endpoints', async () => {
  const kubeConfig = localKubeConfig((server.address() as AddressInfo).port, 't');
  const manager = new Manager({ kubeConfig, logger: pino({ level: 'silent' }), metricsPort: 0, healthPort: 0 });
  manager.addController({ name: 'widget', for: WIDGETS, workers: 3, reconcile: async () => {} });
  const started = manager.start();
  // start() binds the ports before it waits for the caches
  while (manager.ports.health === undefined) await new Promise((r) => setImmediate(r));
  const get = async (port: number | undefined, path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  };

  expect((await get(manager.ports.health, '/healthz')).status).toBe(200);
  expect((await get(manager.ports.health, '/readyz')).status).toBe(503);
  releaseList();
  await started;
  expect((await get(manager.ports.health, '/readyz')).status).toBe(200);
  const metrics = await get(manager.ports.metrics, '/metrics');
  expect(metrics.body).toContain('controller_runtime_max_concurrent_reconciles{controller="widget"} 3');
  expect(metrics.body).toContain('controller_runtime_reconcile_total{controller="widget",result="success"} 0');
  expect(metrics.body).toContain('rest_client_requests_total{method="GET",code="200"}');
  expect(metrics.body).toMatch(/rest_client_request_duration_seconds_count\{method="GET"\} [1-9]/);
  expect(() => manager.addController({ name: 'late', for: WIDGETS, reconcile: async () => {} })).toThrow(
    /before start/,
  );

  const { metrics: metricsPort } = manager.ports;
  await manager.stop();
  await manager.stop(); // idempotent
  await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
});

test('a watched resource is cached with one label selector: controllers asking for different ones are refused', () => {
  const manager = new Manager({ kubeConfig: localKubeConfig(1), logger: pino({ level: 'silent' }) });
  const PODS: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
  manager.addController({
    name: 'a',
    for: WIDGETS,
    watches: [{ resource: PODS, map: () => [], labelSelector: 'app=a' }],
    reconcile: async () => {},
  });
  manager.addController({
    name: 'b',
    for: WIDGETS,
    watches: [{ resource: PODS, map: () => [], labelSelector: 'app=a' }],
    reconcile: async () => {},
  });
  expect(() =>
    manager.addController({
      name: 'c',
      for: WIDGETS,
      watches: [{ resource: PODS, map: () => [] }],
      reconcile: async () => {},
    }),
  ).toThrow('/v1/pods is already cached with labelSelector "app=a"; every controller must ask for the same one');
});

test("the cache before its informers sync, for a resource no controller names, and a write's result for either", () => {
  const manager = new Manager({ kubeConfig: localKubeConfig(1), logger: pino({ level: 'silent' }) });
  manager.addController({ name: 'a', for: WIDGETS, reconcile: async () => {} });
  const GIZMOS: ResourceRef = { ...WIDGETS, plural: 'gizmos', kind: 'Gizmo' };
  const key = { namespace: 'ns', name: 'w' };
  expect(manager.cache.isAvailable(WIDGETS)).toBe(false);
  expect(() => manager.cache.get(WIDGETS, key)).toThrow(
    'widgets.example.dev/v1 is not available (its cache has not synced): check cache.isAvailable first',
  );
  expect(() => manager.cache.list(GIZMOS)).toThrow(
    "no informer for gizmos.example.dev/v1: list it in a controller's for/owns/watches",
  );
  const written = { metadata: { ...key, resourceVersion: '2' } };
  expect(manager.cache.recordWrite(WIDGETS, written, '1')).toBe(false);
  expect(manager.cache.recordWrite(GIZMOS, written, '1')).toBe(false);
});

/** A pino logger whose entries the test reads, with a way to await one. */
function capturedLogs() {
  const entries: Record<string, unknown>[] = [];
  let waiting: (() => void) | undefined;
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        entries.push(JSON.parse(line) as Record<string, unknown>);
        waiting?.();
      },
    },
  );
  const withMsg = (msg: string) => entries.filter((e) => e.msg === msg);
  return {
    logger,
    entries,
    withMsg,
    /** Resolves once at least `count` entries carry `msg`. */
    async until(msg: string, count = 1) {
      while (withMsg(msg).length < count) await new Promise<void>((r) => (waiting = r));
    },
  };
}

/** Lets every pending promise continuation run. */
const settle = () => new Promise((r) => setImmediate(r));

test('without leader election a started manager leads at once; with nothing to cache it is ready from start() until stop(); start() twice is refused', async () => {
  const manager = new Manager({
    kubeConfig: localKubeConfig(1),
    logger: pino({ level: 'silent' }),
    clock: new FakeClock(),
  });
  const state = () => ({ leader: manager.isLeader(), ready: manager.isReady() });
  expect(state()).toEqual({ leader: false, ready: false });
  await manager.start();
  expect(state()).toEqual({ leader: true, ready: true });
  expect(manager.ports).toEqual({}); // no port asked for, none listened on
  await expect(manager.start()).rejects.toThrow('manager already started');
  const stopped = manager.stop();
  expect(manager.isReady()).toBe(false); // from the moment it begins to stop
  await stopped;
  expect(state()).toEqual({ leader: false, ready: false });
});

test.each([
  { only: 'metrics' as const, options: { metricsPort: 0 }, other: '/readyz' },
  { only: 'health' as const, options: { healthPort: 0 }, other: '/metrics' },
])('with only the $only port asked for, only its endpoints are served', async ({ only, options, other }) => {
  const manager = new Manager({
    kubeConfig: localKubeConfig(1),
    logger: pino({ level: 'silent' }),
    clock: new FakeClock(),
    ...options,
  });
  await manager.start();
  expect(Object.keys(manager.ports)).toEqual([only]);
  expect((await fetch(`http://127.0.0.1:${manager.ports[only]}${other}`)).status).toBe(404);
  await manager.stop();
});

test('two controllers may not share a name', () => {
  const manager = new Manager({ kubeConfig: localKubeConfig(1), logger: pino({ level: 'silent' }) });
  manager.addController({ name: 'widget', for: WIDGETS, reconcile: async () => {} });
  expect(() => manager.addController({ name: 'widget', for: WIDGETS, reconcile: async () => {} })).toThrow(
    'duplicate controller name widget',
  );
});

test('a resource first watched without a label selector refuses one with a selector, saying it has none', () => {
  const manager = new Manager({ kubeConfig: localKubeConfig(1), logger: pino({ level: 'silent' }) });
  const PODS: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
  manager.addController({
    name: 'a',
    for: WIDGETS,
    watches: [{ resource: PODS, map: () => [] }],
    reconcile: async () => {},
  });
  expect(() =>
    manager.addController({
      name: 'b',
      for: WIDGETS,
      watches: [{ resource: PODS, map: () => [], labelSelector: 'app=b' }],
      reconcile: async () => {},
    }),
  ).toThrow('/v1/pods is already cached with labelSelector ""; every controller must ask for the same one');
});

test('a required resource whose list never answers fails start() as "no response yet"', async () => {
  let answerList: (() => void) | undefined;
  let listRequested: () => void = () => {};
  const listed = new Promise<void>((r) => (listRequested = r));
  const silent = http.createServer((_req, res) => {
    answerList = () => res.writeHead(503).end();
    listRequested();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const clock = new FakeClock();
  const manager = new Manager({
    kubeConfig: localKubeConfig((silent.address() as AddressInfo).port),
    logger: pino({ level: 'silent' }),
    clock,
    cacheSyncTimeoutMs: 60_000,
    resyncPeriodMs: 0,
  });
  manager.addController({ name: 'widget', for: WIDGETS, reconcile: async () => {} });
  const failed = expect(manager.start()).rejects.toThrow(
    'caches did not sync within 60 s: widgets.example.dev/v1 (no response yet)',
  );
  await listed;
  clock.advance(60_000);
  await settle();
  answerList!(); // start() stops the informers before it rejects, and a list in flight holds that up
  await failed;
  silent.closeAllConnections();
  await new Promise((r) => silent.close(r));
});

describe('optional resources, namespaces and sync failures (stand-in API server, fake clock)', () => {
  const GADGETS: ResourceRef = {
    group: 'gadget.dev',
    version: 'v1',
    plural: 'gadgets',
    kind: 'Gadget',
    namespaced: true,
  };
  const obj = (namespace: string, name: string, extra: Record<string, unknown> = {}) => ({
    metadata: { namespace, name, resourceVersion: '1', uid: `${namespace}-${name}` },
    ...extra,
  });
  let api: StandInApiServer;
  let manager: Manager | undefined;
  beforeEach(() => (api = new StandInApiServer()));
  afterEach(async () => {
    await manager?.stop();
    manager = undefined;
    await api.close();
  });

  /** `manager` on the stand-in API server with a fake clock; `logs` holds what it logged. */
  async function managerOnFakeClock(options: Omit<ManagerOptions, 'kubeConfig' | 'logger' | 'clock'> = {}) {
    const clock = new FakeClock();
    const logs = capturedLogs();
    const started = new Manager({ kubeConfig: await api.start(), logger: logs.logger, clock, ...options });
    manager = started; // stopped after the test
    return { manager: started, clock, logs };
  }

  /** The widget controller, watching gadgets as an optional resource whose objects enqueue nothing. */
  const watchingOptionalGadgets = (reconcile: ControllerOptions['reconcile'] = async () => {}) => ({
    name: 'widget',
    for: WIDGETS,
    watches: [{ resource: GADGETS, map: () => [], optional: true }],
    reconcile,
  });

  /** Reconciles recorded as "name available?", with a way to await the next one. */
  function recorder() {
    const seen: string[] = [];
    let waiting: (() => void) | undefined;
    return {
      seen,
      record(entry: string) {
        seen.push(entry);
        waiting?.();
      },
      /** Resolves once `done(seen)` holds, checked after each reconcile. */
      async until(done: (seen: string[]) => boolean) {
        while (!done(seen)) await new Promise<void>((r) => (waiting = r));
      },
    };
  }

  test('a resource the API server does not serve holds up nothing; when it appears it is watched and dependents reconcile again; when it goes they do too', async () => {
    api.serve(WIDGETS, [obj('ns', 'w1')]);
    const { manager, clock, logs } = await managerOnFakeClock({ healthPort: 0 });
    const aboutGadgets = () =>
      logs.entries
        .filter((e) => e.resource === 'gadgets.gadget.dev/v1')
        .map((e) => `${String(e.level)} ${String(e.msg)}`);
    const reconciles = recorder();
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      watches: [
        {
          resource: GADGETS,
          map: (g) => [{ namespace: 'ns', name: String(g.metadata?.labels?.widget) }],
          optional: true,
        },
      ],
      reconcile: async (ctx, key) => reconciles.record(`${key.name} ${ctx.cache.isAvailable(GADGETS)}`),
    });
    await manager.start();
    expect(manager.isReady()).toBe(true);
    expect((await fetch(`http://127.0.0.1:${manager.ports.health}/readyz`)).status).toBe(200);
    expect(logs.withMsg('caches synced')).toEqual([
      expect.objectContaining({ level: 30, informers: 2, unserved: ['gadgets.gadget.dev/v1'] }),
    ]);
    expect(aboutGadgets()).toEqual(['30 optional resource not served by the API server; looking for it periodically']);
    await reconciles.until((seen) => seen.length === 1);
    expect(reconciles.seen).toEqual(['w1 false']);
    expect(() => manager.cache.list(GADGETS)).toThrow(ResourceUnavailableError);
    expect(() => manager.cache.get(GADGETS, { namespace: 'ns', name: 'g1' })).toThrow(
      'gadgets.gadget.dev/v1 is not available (the API server does not serve it): check cache.isAvailable first',
    );
    expect(api.requests.filter((r) => r.includes('/gadgets'))).toEqual([]); // discovery only, no list

    // A CRD installed later: the next discovery round finds it.
    api.serve(GADGETS, [
      obj('ns', 'g1', { metadata: { namespace: 'ns', name: 'g1', resourceVersion: '1', labels: { widget: 'w1' } } }),
    ]);
    clock.advance(30_000);
    await reconciles.until((seen) => seen.length === 2);
    expect(reconciles.seen[1]).toBe('w1 true');
    expect(manager.cache.list(GADGETS).map((g) => g.metadata?.name)).toEqual(['g1']);
    await logs.until('optional resource synced; reconciling its dependents again');
    expect(aboutGadgets().slice(1)).toEqual([
      '30 optional resource is served now; watching it',
      '30 optional resource synced; reconciling its dependents again', // in time: no error
    ]);

    // Turned off again: the watch answers 404, the resource is dropped and the dependents hear of it.
    const before = reconciles.seen.length;
    api.unserve(GADGETS);
    await reconciles.until((seen) => seen.slice(before).includes('w1 false'));
    expect(manager.cache.isAvailable(GADGETS)).toBe(false);
    expect(manager.isReady()).toBe(true);
    expect(aboutGadgets().slice(3)).toEqual(['40 optional resource is no longer served; looking for it periodically']);
  });

  test('required resources that never sync fail start() after the timeout, naming each with why, and only those', async () => {
    const GIZMOS: ResourceRef = { ...GADGETS, plural: 'gizmos', kind: 'Gizmo' };
    const SPROCKETS: ResourceRef = { ...GADGETS, plural: 'sprockets', kind: 'Sprocket' };
    api.serve(WIDGETS, []); // synced
    api.serve(GADGETS, [], 403); // required (owned), refused
    const { manager, clock, logs } = await managerOnFakeClock({
      cacheSyncTimeoutMs: 120_000,
      resyncPeriodMs: 0,
    });
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      owns: [GADGETS],
      watches: [{ resource: SPROCKETS, map: () => [], optional: true }], // not served: left out, not waited for
      indexes: [{ resource: GIZMOS, name: 'spec.model', keys: byField('spec.model') }], // required, not served
      reconcile: async () => {},
    });
    const started = manager.start();
    const failed = expect(started).rejects.toThrow(
      'caches did not sync within 120 s: gadgets.gadget.dev/v1 (ApiError: forbidden); gizmos.gadget.dev/v1 (NotFoundError: the server could not find the requested resource — is its CRD installed, its API group enabled?)',
    );
    await api.requested(/^GET \/apis\/example\.dev\/v1\/widgets\?.*watch=true/); // widgets synced
    await logs.until('list/watch failed; retrying', 2); // gadgets and gizmos have each failed once
    expect(manager.isReady()).toBe(false); // one required resource synced is not enough
    clock.advance(120_000);
    await failed;
    expect(logs.withMsg('caches did not sync')).toEqual([
      expect.objectContaining({ level: 50, err: expect.stringMatching(/^caches did not sync within 120 s: gadgets/) }),
    ]);
    expect(manager.isReady()).toBe(false);
  });

  test('an optional resource that is served but cannot be listed (RBAC) fails loudly too', async () => {
    api.serve(WIDGETS, []);
    api.serve(GADGETS, [], 403);
    const { manager, clock } = await managerOnFakeClock({
      resyncPeriodMs: 0,
    });
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      owns: [{ resource: GADGETS, optional: true }],
      reconcile: async () => {},
    });
    const retrying = clock.nextTimer().then(() => clock.nextTimer());
    const started = manager.start();
    await retrying;
    clock.advance(120_000);
    await expect(started).rejects.toThrow(/gadgets\.gadget\.dev\/v1 \(ApiError: forbidden\)/);
  });

  test('with namespaces, each namespace is listed on its own and nothing else is seen', async () => {
    api.serve(WIDGETS, [obj('a', 'x'), obj('b', 'y'), obj('c', 'z')]);
    const { manager, logs } = await managerOnFakeClock({ namespaces: ['a', 'b'] });
    const reconciles = recorder();
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      reconcile: async (_ctx, key) => reconciles.record(`${key.namespace}/${key.name}`),
    });
    await manager.start();
    await reconciles.until((seen) => seen.length === 2);
    expect(reconciles.seen.sort()).toEqual(['a/x', 'b/y']);
    const lists = api.requests.filter((r) => r.includes('/widgets') && !r.includes('watch=true'));
    expect(lists.map((r) => r.split('?')[0]).sort()).toEqual([
      'GET /apis/example.dev/v1/namespaces/a/widgets',
      'GET /apis/example.dev/v1/namespaces/b/widgets',
    ]);
    expect(
      manager.cache
        .list(WIDGETS)
        .map((w) => w.metadata?.name)
        .sort(),
    ).toEqual(['x', 'y']);
    expect(manager.cache.get(WIDGETS, { namespace: 'b', name: 'y' })?.metadata?.name).toBe('y');
    expect(manager.cache.get(WIDGETS, { namespace: 'c', name: 'z' })).toBeUndefined();
    // each namespace's informer says which namespace it speaks of
    expect(logs.withMsg('synced').map((e) => [e.informer, e.namespace])).toEqual(
      expect.arrayContaining([
        ['widgets', 'a'],
        ['widgets', 'b'],
      ]),
    );
  });

  test('an owned resource named by its ref alone is required: it is cached before start() resolves', async () => {
    api.serve(WIDGETS, [obj('ns', 'w1')]);
    api.serve(GADGETS, [obj('ns', 'g1')]);
    manager = new Manager({ kubeConfig: await api.start(), logger: pino({ level: 'silent' }), clock: new FakeClock() });
    manager.addController({ name: 'widget', for: WIDGETS, owns: [GADGETS], reconcile: async () => {} });
    await manager.start();
    expect(manager.cache.list(GADGETS).map((g) => g.metadata?.name)).toEqual(['g1']);
  });

  test('a resource only an index names is required: start() fails when it is not served', async () => {
    api.serve(WIDGETS, []);
    const { manager, clock } = await managerOnFakeClock({
      cacheSyncTimeoutMs: 60_000,
      resyncPeriodMs: 0,
    });
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      indexes: [{ resource: GADGETS, name: 'spec.model', keys: byField('spec.model') }],
      reconcile: async () => {},
    });
    const failed = expect(manager.start()).rejects.toThrow(
      /caches did not sync within 60 s: .*gadgets\.gadget\.dev\/v1/,
    );
    await api.requested(/^GET \/apis\/example\.dev\/v1\/widgets\?.*watch=true/); // widgets synced
    clock.advance(60_000);
    await failed;
  });

  test('an index on a resource watched as optional leaves it optional: not served, it holds nothing up', async () => {
    api.serve(WIDGETS, []);
    const { manager } = await managerOnFakeClock({ resyncPeriodMs: 0 });
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      watches: [{ resource: GADGETS, map: () => [], optional: true }],
      indexes: [{ resource: GADGETS, name: 'spec.model', keys: byField('spec.model') }],
      reconcile: async () => {},
    });
    await manager.start();
    expect(manager.isReady()).toBe(true);
    expect(manager.cache.isAvailable(GADGETS)).toBe(false);
  });

  test('an optional resource is watched when discovery cannot tell whether it is served, with a warning', async () => {
    api.serve(WIDGETS, []);
    api.serve(GADGETS, [obj('ns', 'g1')]);
    const { manager, logs } = await managerOnFakeClock({
      discovery: { isServed: () => Promise.reject(new Error('discovery is down')) },
    });
    manager.addController(watchingOptionalGadgets());
    await manager.start();
    expect(manager.cache.list(GADGETS).map((g) => g.metadata?.name)).toEqual(['g1']);
    expect(logs.withMsg('discovery failed; watching anyway')).toEqual([
      expect.objectContaining({ level: 40, err: 'Error: discovery is down', resource: 'gadgets.gadget.dev/v1' }),
    ]);
  });

  test('an optional resource that appears but does not sync in time is reported; once it syncs, dependents reconcile again', async () => {
    api.serve(WIDGETS, [obj('ns', 'w1')]);
    const { manager, clock, logs } = await managerOnFakeClock({
      cacheSyncTimeoutMs: 60_000,
      resyncPeriodMs: 0,
    });
    const reconciles = recorder();
    manager.addController(
      watchingOptionalGadgets(async (ctx, key) => reconciles.record(`${key.name} ${ctx.cache.isAvailable(GADGETS)}`)),
    );
    await manager.start();
    await reconciles.until((seen) => seen.length === 1);

    api.serve(GADGETS, [], 403); // the CRD appears, but RBAC does not let the operator list it yet
    clock.advance(30_000);
    await logs.until('list/watch failed; retrying'); // discovery found it; its informer backs off
    clock.advance(60_000);
    await settle();
    expect(logs.withMsg('optional resource did not sync; still trying')).toEqual([
      expect.objectContaining({ level: 50, resource: 'gadgets.gadget.dev/v1', err: 'ApiError: forbidden' }),
    ]);
    await logs.until('list/watch failed; retrying', 2);
    expect(reconciles.seen).toEqual(['w1 false']);

    api.serve(GADGETS, []); // RBAC fixed
    clock.advance(10_000);
    while (!manager.cache.isAvailable(GADGETS)) await settle(); // the informer's next list
    await settle();
    expect(logs.withMsg('optional resource synced; reconciling its dependents again')).toHaveLength(1);
    await reconciles.until((seen) => seen.length === 2);
    expect(reconciles.seen).toEqual(['w1 false', 'w1 true']);
  });

  test.each([
    { when: 'within', pastTimeout: false },
    { when: 'past', pastTimeout: true },
  ])(
    'an optional resource still syncing $when its sync timeout when the manager stops is not reported as synced',
    async ({ pastTimeout }) => {
      api.serve(WIDGETS, []);
      const { manager, clock, logs } = await managerOnFakeClock({
        cacheSyncTimeoutMs: 60_000,
        resyncPeriodMs: 0,
      });
      manager.addController(watchingOptionalGadgets());
      await manager.start();
      api.serve(GADGETS, [], 403);
      clock.advance(30_000);
      await logs.until('list/watch failed; retrying');
      if (pastTimeout) {
        clock.advance(60_000);
        await logs.until('optional resource did not sync; still trying');
      }
      await manager.stop();
      await settle();
      expect(logs.withMsg('optional resource synced; reconciling its dependents again')).toEqual([]);
      expect(logs.withMsg('optional resource did not sync; still trying')).toHaveLength(pastTimeout ? 1 : 0);
    },
  );

  test('discovery that fails while looking for an optional resource is retried next period', async () => {
    api.serve(WIDGETS, [obj('ns', 'w1')]);
    api.serve(GADGETS, []);
    const answers: (boolean | Error)[] = [false, new Error('discovery is down'), true];
    const { manager, clock, logs } = await managerOnFakeClock({
      resyncPeriodMs: 0,
      discovery: {
        isServed: async () => {
          const answer = answers.shift()!;
          if (answer instanceof Error) throw answer;
          return answer;
        },
      },
    });
    const reconciles = recorder();
    manager.addController(
      watchingOptionalGadgets(async (ctx, key) => reconciles.record(`${key.name} ${ctx.cache.isAvailable(GADGETS)}`)),
    );
    await manager.start();
    await reconciles.until((seen) => seen.length === 1);
    const nextRound = clock.nextTimer();
    clock.advance(30_000);
    await nextRound;
    expect(logs.withMsg('discovery failed; trying again later')).toEqual([
      expect.objectContaining({ level: 20, err: 'Error: discovery is down', resource: 'gadgets.gadget.dev/v1' }),
    ]);
    clock.advance(30_000);
    await reconciles.until((seen) => seen.length === 2);
    expect(reconciles.seen).toEqual(['w1 false', 'w1 true']);
    expect(answers).toEqual([]); // watched only once discovery said so: the failed round did not count as served
  });

  test('controllers share an index by name only with the same function', () => {
    manager = new Manager({ kubeConfig: localKubeConfig(1), logger: pino({ level: 'silent' }) });
    const index = { resource: WIDGETS, name: 'spec.model', keys: byField('spec.model') };
    manager.addController({ name: 'a', for: WIDGETS, indexes: [index], reconcile: async () => {} });
    manager.addController({
      name: 'b',
      for: GADGETS,
      indexes: [{ ...index, keys: byField('spec.model') }],
      reconcile: async () => {},
    });
    expect(() =>
      manager!.addController({
        name: 'c',
        for: GADGETS,
        indexes: [{ ...index, keys: byLabel('model') }],
        reconcile: async () => {},
      }),
    ).toThrow('widgets.example.dev/v1 already has an index named spec.model with another function');
  });

  test('stop() gives an in-flight reconcile the grace period (10 s by default) with its caches, then aborts it; then the caches stop, and no timer is left; an optional resource gone meanwhile is not reported', async () => {
    api.serve(WIDGETS, [obj('ns', 'w1')]);
    api.serve(GADGETS, []);
    const { manager, clock, logs } = await managerOnFakeClock();
    let reconciling: () => void = () => {};
    const inFlight = new Promise<void>((r) => (reconciling = r));
    let ended: { reason: unknown; cached: boolean } | undefined;
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      watches: [{ resource: GADGETS, map: () => [], optional: true }],
      reconcile: async (ctx) => {
        reconciling();
        await new Promise((r) => ctx.signal.addEventListener('abort', r));
        ended = { reason: (ctx.signal.reason as ReconcileAbortedError).reason, cached: ctx.cache.isAvailable(WIDGETS) };
      },
    });
    await manager.start();
    await inFlight;
    const stopped = manager.stop();
    clock.advance(9_999);
    await settle();
    expect(ended).toBeUndefined();
    // an optional resource that goes now is dropped without a warning: no dependent will reconcile again
    api.unserve(GADGETS);
    while (manager.cache.isAvailable(GADGETS)) await settle();
    await settle();
    const warned = logs.withMsg('optional resource is no longer served; looking for it periodically');
    clock.advance(1);
    await stopped;
    expect(ended).toEqual({ reason: 'shutdown', cached: true });
    expect(warned).toEqual([]);
    expect(manager.cache.isAvailable(WIDGETS)).toBe(false);
    expect(clock.pendingTimers()).toBe(0); // the sync timeout's timer too: nothing keeps the process up
    expect(logs.entries.map((e) => e.msg).filter((msg) => msg === 'stopping' || msg === 'stopped')).toEqual([
      'stopping',
      'stopped',
    ]);
  });

  test("a user's objects are reconciled before the follow-ups their owned objects cause, even when those were queued first", async () => {
    api.serve(WIDGETS, [obj('ns', 'w1')]);
    const ownedByW0 = {
      ownerReferences: [{ apiVersion: 'example.dev/v1', kind: 'Widget', name: 'w0', uid: 'w0', controller: true }],
    };
    api.serve(GADGETS, [obj('ns', 'g1', { metadata: { ...obj('ns', 'g1').metadata, ...ownedByW0 } })]);
    const releaseWidgets = api.hold(/^GET \/apis\/example\.dev\/v1\/widgets\?(?!.*watch=true)/); // a slow list
    const { manager } = await managerOnFakeClock({ resyncPeriodMs: 0 });
    const reconciles = recorder();
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      owns: [GADGETS],
      reconcile: async (_ctx, key) => reconciles.record(key.name),
    });
    const started = manager.start();
    await api.requested(/^GET \/apis\/gadget\.dev\/v1\/gadgets\?.*watch=true/); // g1 listed: w0 queued as a follow-up
    releaseWidgets(); // then w1, a new object: what a user asked for
    await started;
    await reconciles.until((seen) => seen.length === 2);
    expect(reconciles.seen).toEqual(['w1', 'w0']);
  });

  test('stop() while start() waits for the caches: start() resolves without reporting them synced or campaigning for the Lease', async () => {
    api.serve(leasesRef);
    const { manager, logs } = await managerOnFakeClock({
      resyncPeriodMs: 0,
      leaderElection: { leaseName: 'widget-operator', namespace: 'ops' },
      onLeadershipLost: () => {},
    });
    manager.addController({ name: 'widget', for: WIDGETS, reconcile: async () => {} }); // widgets: not served
    const started = manager.start();
    await logs.until('list/watch failed; retrying');
    await manager.stop();
    await started;
    expect(logs.withMsg('caches synced')).toEqual([]);
    expect(api.requests.filter((r) => r.includes('/leases'))).toEqual([]);
    expect(manager.isLeader()).toBe(false);
  });

  test('a standby that wins the Lease while it stops does not start its controllers', async () => {
    api.serve(WIDGETS, [obj('ns', 'w1')]);
    api.serve(leasesRef);
    const { manager, clock, logs } = await managerOnFakeClock({
      resyncPeriodMs: 0,
      leaderElection: { leaseName: 'widget-operator', namespace: 'ops' },
      discoveryPeriodMs: 1_000, // within the Lease request's own timeout (the renew deadline, 10 s)
      onLeadershipLost: () => {},
    });
    manager.addController(watchingOptionalGadgets());
    const releaseLease = api.hold(/^GET \/apis\/coordination\.k8s\.io\//); // its first read of the Lease
    await manager.start();
    await api.requested(/^GET \/apis\/coordination\.k8s\.io\//);
    // The next discovery round is slow to answer: stopping waits for the round in flight.
    const discovery = /^GET \/apis\/gadget\.dev\/v1$/;
    const releaseDiscovery = api.hold(discovery);
    clock.advance(1_000);
    while (api.requests.filter((r) => discovery.test(r)).length < 2) await settle(); // start()'s round, then this one
    const stopped = manager.stop();
    releaseLease();
    await logs.until('became leader'); // while the manager stops
    const startedWhileStopping = logs.withMsg('starting workers');
    releaseDiscovery();
    await stopped;
    expect(startedWhileStopping).toEqual([]);
    expect(logs.withMsg('starting workers')).toEqual([]);
  });

  test("a reconcile's client writes to the API server as its controller, and the cache has the write before any watch event", async () => {
    api.serve(WIDGETS, [obj('ns', 'w1')]);
    api.serve(GADGETS, []);
    const { manager } = await managerOnFakeClock({ resyncPeriodMs: 0 });
    const reconciles = recorder();
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      owns: [GADGETS],
      reconcile: async (ctx, key) => {
        const metadata = { namespace: key.namespace, name: `${key.name}-gadget` };
        await ctx.client.create(GADGETS, { apiVersion: 'gadget.dev/v1', kind: 'Gadget', metadata });
        reconciles.record(`${metadata.name} cached: ${ctx.cache.get(GADGETS, metadata) !== undefined}`);
      },
    });
    await manager.start();
    await reconciles.until((seen) => seen.length === 1);
    expect(reconciles.seen).toEqual(['w1-gadget cached: true']); // the stand-in's watches stay silent
    expect(api.writes.map((w) => w.line)).toEqual([
      'POST /apis/gadget.dev/v1/namespaces/ns/gadgets?fieldManager=modelops-widget',
    ]);
  });

  test.each([
    { configured: '5 s', options: { watchTimeoutSeconds: 5 }, least: 5, most: 5 },
    { configured: 'nothing', options: {}, least: 300, most: 600 },
  ])(
    'with $configured configured, a watch asks the API server to end it after $least-$most s',
    async ({ options, least, most }) => {
      api.serve(WIDGETS, []);
      const { manager, logs } = await managerOnFakeClock({ resyncPeriodMs: 0, ...options });
      manager.addController({ name: 'widget', for: WIDGETS, reconcile: async () => {} });
      await manager.start();
      await api.requested(/^GET \/apis\/example\.dev\/v1\/widgets\?.*watch=true/);
      const watch = new URL(api.requests.find((r) => r.includes('watch=true'))!.replace(/^GET /, ''), 'http://x');
      const seconds = Number(watch.searchParams.get('timeoutSeconds'));
      expect(seconds).toBeGreaterThanOrEqual(least);
      expect(seconds).toBeLessThanOrEqual(most);
      expect(logs.withMsg('list/watch failed; retrying')).toEqual([]);
    },
  );

  test('every cached object is reconciled again each resync period, 10 h by default', async () => {
    api.serve(WIDGETS, [obj('ns', 'w1')]);
    const { manager, clock } = await managerOnFakeClock();
    const reconciles = recorder();
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      reconcile: async (_ctx, key) => reconciles.record(key.name),
    });
    await manager.start();
    await reconciles.until((seen) => seen.length === 1);
    clock.advance(10 * 3600_000 - 1);
    await settle();
    expect(reconciles.seen).toEqual(['w1']);
    clock.advance(1);
    await reconciles.until((seen) => seen.length === 2);
  });
});

describe('leader election (stand-in API server, fake clock)', () => {
  let api: StandInApiServer;
  let manager: Manager | undefined;
  const exitCodes: (number | string | null | undefined)[] = [];
  const realExit = process.exit;
  let ended: () => void = () => {};
  beforeEach(() => {
    api = new StandInApiServer();
    exitCodes.length = 0;
    process.exit = ((code) => {
      exitCodes.push(code);
      ended();
    }) as typeof process.exit;
  });
  afterEach(async () => {
    await manager?.stop();
    manager = undefined;
    await api.close();
    process.exit = realExit;
  });

  const leaderStatus = async () =>
    (await manager!.registry.getSingleMetricAsString('leader_election_master_status')).split('\n').at(-1);

  /** A manager that campaigns for the Lease ops/widget-operator (served, so its first attempt wins) as `identity` (null: none configured). */
  async function campaigning(
    onLeadershipLost?: () => void,
    logger = pino({ level: 'silent' }),
    identity: string | null = 'replica-1',
  ) {
    api.serve(WIDGETS, [{ metadata: { namespace: 'ns', name: 'w1', resourceVersion: '1', uid: 'w1' } }]);
    api.serve(leasesRef);
    const clock = new FakeClock();
    const reconciles: string[] = [];
    let reconciled: () => void = () => {};
    const firstReconcile = new Promise<void>((r) => (reconciled = r));
    manager = new Manager({
      kubeConfig: await api.start(),
      logger,
      clock,
      resyncPeriodMs: 0,
      leaderElection: { leaseName: 'widget-operator', namespace: 'ops', identity: identity ?? undefined },
      onLeadershipLost,
    });
    manager.addController({
      name: 'widget',
      for: WIDGETS,
      reconcile: async (_ctx, key) => {
        reconciles.push(key.name);
        reconciled();
      },
    });
    return { clock, reconciles, firstReconcile };
  }

  test('a replica is ready before it leads, runs its controllers only once it holds the Lease, and reports it', async () => {
    const { reconciles, firstReconcile } = await campaigning(() => {});
    await manager!.start();
    expect(manager!.isReady()).toBe(true);
    expect(manager!.isLeader()).toBe(false);
    expect(reconciles).toEqual([]);
    expect(await leaderStatus()).toBe('leader_election_master_status{name="widget-operator"} 0');

    await firstReconcile;
    expect(manager!.isLeader()).toBe(true);
    expect(await leaderStatus()).toBe('leader_election_master_status{name="widget-operator"} 1');
    expect(api.requests).toContain('GET /apis/coordination.k8s.io/v1/namespaces/ops/leases/widget-operator');
    // The Lease's requests are counted and timed with the rest: its create is the only POST here.
    const requests = await manager!.registry.getSingleMetricAsString('rest_client_requests_total');
    expect(requests).toContain('rest_client_requests_total{method="POST",code="201"} 1');
    const durations = await manager!.registry.getSingleMetricAsString('rest_client_request_duration_seconds');
    expect(durations).toContain('rest_client_request_duration_seconds_count{method="POST"} 1');
  });

  test.each([
    { configured: 'replica-1', expected: /^replica-1$/ },
    { configured: null, expected: new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_[0-9a-f]{8}$`) },
  ])(
    'a replica holds the Lease and reports its Events as one identity: $configured, else its host name and a random suffix',
    async ({ configured, expected }) => {
      const { firstReconcile } = await campaigning(() => {}, undefined, configured);
      await manager!.start();
      await firstReconcile;
      const w1 = { apiVersion: 'example.dev/v1', kind: 'Widget', metadata: { namespace: 'ns', name: 'w1', uid: 'w1' } };
      void manager!.recorder.event(w1, 'Normal', 'Tested', 'reported by this replica');
      await api.requested(/^POST \/apis\/events\.k8s\.io\/v1\/namespaces\/ns\/events/);
      const sent = (prefix: string) =>
        api.writes.find((w) => w.line.startsWith(prefix))?.body as
          { spec?: { holderIdentity?: string }; reportingInstance?: string } | undefined;
      const holder = sent('POST /apis/coordination.k8s.io/v1/namespaces/ops/leases')?.spec?.holderIdentity;
      expect(holder).toMatch(expected);
      expect(sent('POST /apis/events.k8s.io/v1/namespaces/ns/events')?.reportingInstance).toBe(holder);
    },
  );

  test('a leader that cannot renew the Lease stops everything, then calls onLeadershipLost', async () => {
    let lost = 0;
    const leadershipLost = new Promise<void>((r) => (ended = r));
    const logs = capturedLogs();
    const { clock, firstReconcile } = await campaigning(() => {
      lost++;
      ended();
    }, logs.logger);
    await manager!.start();
    await firstReconcile;

    api.unserve(leasesRef); // every renewal fails from now on
    clock.advance(10_000); // the renew deadline
    await leadershipLost;
    expect({ lost, exitCodes }).toEqual({ lost: 1, exitCodes: [] });
    expect(logs.withMsg('leadership lost; stopping')).toEqual([expect.objectContaining({ level: 50 })]);
    expect(manager!.isLeader()).toBe(false);
    expect(manager!.isReady()).toBe(false);
    expect(await leaderStatus()).toBe('leader_election_master_status{name="widget-operator"} 0');
  });

  test('by default, a lost leadership exits the process with status 1 so it restarts as a candidate', async () => {
    const exited = new Promise<void>((r) => (ended = r));
    const { clock, firstReconcile } = await campaigning();
    await manager!.start();
    await firstReconcile;
    api.unserve(leasesRef);
    clock.advance(10_000);
    await exited;
    expect(exitCodes).toEqual([1]);
  });

  test('stop() on the leader gives up leadership without counting as a loss', async () => {
    let lost = 0;
    const { firstReconcile } = await campaigning(() => lost++);
    await manager!.start();
    await firstReconcile;
    await manager!.stop();
    await manager!.stop();
    await settle();
    expect({ lost, exitCodes }).toEqual({ lost: 0, exitCodes: [] });
    expect(manager!.isLeader()).toBe(false);
    expect(await leaderStatus()).toBe('leader_election_master_status{name="widget-operator"} 0');
  });
});
