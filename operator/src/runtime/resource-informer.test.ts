// ResourceInformer: the informers of one resource type (one per watched namespace, or one for the cluster), what
// reads and recorded writes reach, and indexes declared while it runs.
import pino from 'pino';
import { NotFoundError } from './errors.js';
import { Informer, type ListerWatcher } from './informer.js';
import { ResourceInformer } from './resource-informer.js';
import { FakeClock } from './testing/fake-clock.js';
import type { KubernetesObject, ResourceRef } from './types.js';

const PODS: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
const pod = (namespace: string, name: string, labels?: Record<string, string>): KubernetesObject => ({
  metadata: { namespace, name, resourceVersion: '1', ...(labels ? { labels } : {}) },
});
const names = (objects: KubernetesObject[]) =>
  objects.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort();

/** An API server holding `objects`: lists answer from them, watches stay open until stopped. */
function source(objects: KubernetesObject[]): ListerWatcher {
  return {
    list: async () => ({ metadata: { resourceVersion: '1' }, items: objects }),
    watch: (_rv, _onEvent, signal) =>
      new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve()))),
  };
}

const running: ResourceInformer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

/** A ResourceInformer over `objects`, started and synced; `made` lists the namespaces it made informers for. */
async function started(namespaces: string[] | undefined, objects: KubernetesObject[], labelSelector?: string) {
  const made: (string | undefined)[] = [];
  const resource = new ResourceInformer(
    PODS,
    labelSelector,
    namespaces,
    (namespace) => {
      made.push(namespace);
      const inScope = objects.filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
      return new Informer(PODS, source(inScope), { logger: pino({ level: 'silent' }) });
    },
    () => {},
  );
  resource.start();
  running.push(resource);
  expect(await resource.whenSynced()).toBe(true);
  return { resource, made };
}

describe('ResourceInformer', () => {
  test("watching some namespaces: one informer each; reads and recorded writes reach the object's namespace", async () => {
    const { resource, made } = await started(['a', 'b'], [pod('a', 'x'), pod('b', 'y'), pod('c', 'z')]);
    expect(made).toEqual(['a', 'b']);
    expect(names(resource.list())).toEqual(['a/x', 'b/y']);
    expect(names(resource.list({ namespace: 'a' }))).toEqual(['a/x']);
    expect(resource.list({ namespace: 'c' })).toEqual([]);

    expect(resource.recordWrite(pod('b', 'w'), undefined)).toBe(true);
    expect(resource.get({ namespace: 'b', name: 'w' })).toBeDefined();
    expect(names(resource.list({ namespace: 'b' }))).toEqual(['b/w', 'b/y']);
    // a namespace not watched has no store to take it; nor has an object without metadata
    expect(resource.recordWrite(pod('c', 'w'), undefined)).toBe(false);
    expect(resource.recordWrite({ kind: 'Pod' }, undefined)).toBe(false);
    expect(names(resource.list())).toEqual(['a/x', 'b/w', 'b/y']);
  });

  test('watching the whole cluster: one informer takes the writes of every namespace', async () => {
    const { resource, made } = await started(undefined, [pod('a', 'x')]);
    expect(made).toEqual([undefined]);
    expect(resource.recordWrite(pod('b', 'w'), undefined)).toBe(true);
    expect(names(resource.list())).toEqual(['a/x', 'b/w']);
    expect(names(resource.list({ namespace: 'b' }))).toEqual(['b/w']);
    expect(resource.get({ namespace: 'b', name: 'w' })).toBeDefined();
  });

  test('with a label selector, only the writes of objects it selects are recorded', async () => {
    const { resource } = await started(undefined, [], 'app=a');
    expect(resource.recordWrite(pod('n', 'yes', { app: 'a' }), undefined)).toBe(true);
    expect(resource.recordWrite(pod('n', 'no', { app: 'b' }), undefined)).toBe(false);
    expect(resource.recordWrite(pod('n', 'unlabelled'), undefined)).toBe(false);
    expect(resource.recordWrite({ kind: 'Pod' }, undefined)).toBe(false);
    expect(names(resource.list())).toEqual(['n/yes']);
  });

  test('its lifecycle: started once, synced while running, stopped on request', async () => {
    let made = 0;
    const signals: AbortSignal[] = [];
    const resource = new ResourceInformer(
      PODS,
      undefined,
      ['a'],
      () => {
        made++;
        const listed = source([pod('a', 'x')]);
        const watching: ListerWatcher = {
          list: listed.list,
          watch: (rv, onEvent, signal) => (signals.push(signal), listed.watch(rv, onEvent, signal)),
        };
        return new Informer(PODS, watching, { logger: pino({ level: 'silent' }) });
      },
      () => {},
    );
    running.push(resource);
    expect(resource.state).toBe('stopped');
    expect(resource.hasSynced()).toBe(false);
    expect(await resource.whenSynced()).toBe(false);
    resource.start();
    resource.start(); // already running: the same informers
    expect(made).toBe(1);
    expect(resource.state).toBe('running');
    expect(await resource.whenSynced()).toBe(true);
    expect(resource.hasSynced()).toBe(true);
    expect(names(resource.list())).toEqual(['a/x']);
    await new Promise((r) => setImmediate(r));
    expect(signals.map((sig) => sig.aborted)).toEqual([false]);
    await resource.stop();
    expect(signals.map((sig) => sig.aborted)).toEqual([true]); // its informers stopped watching
    expect(resource.state).toBe('stopped');
    expect(resource.hasSynced()).toBe(false);
    expect(resource.list()).toEqual([]);
  });

  test('an optional resource whose list answers 404 stops as unserved and says so; a required one keeps trying', async () => {
    const notServed: ListerWatcher = {
      list: async () => {
        throw new NotFoundError(404, 'NotFound', 'the server could not find the requested resource');
      },
      watch: () => Promise.reject(new Error('unexpected watch')),
    };
    for (const optional of [true, false]) {
      const told: ResourceInformer[] = [];
      let made = 0;
      const resource = new ResourceInformer(
        PODS,
        undefined,
        undefined,
        (_ns, onNotServed) => {
          made++;
          return new Informer(PODS, notServed, {
            logger: pino({ level: 'silent' }),
            clock: new FakeClock(),
            onNotServed,
          });
        },
        (r) => told.push(r),
      );
      resource.optional = optional;
      running.push(resource);
      resource.start();
      if (optional) {
        expect(await resource.whenSynced()).toBe(false);
        await new Promise((r) => setImmediate(r));
        expect(resource.state).toBe('unserved');
        expect(told).toEqual([resource]);
      } else {
        for (let i = 0; i < 10; i++) await Promise.resolve();
        expect(resource.state).toBe('running');
        expect(told).toEqual([]);
        expect(resource.lastError()).toBeInstanceOf(NotFoundError);
      }
      expect(made).toBe(1);
    }
  });

  test('indexes and handlers declared before start reach its informers; handlers added later too', async () => {
    const failing: ListerWatcher = {
      list: () => Promise.reject(new Error('not yet')),
      watch: () => Promise.reject(new Error('unexpected watch')),
    };
    const sources = { a: source([pod('a', 'x', { app: 'm' })]), b: failing };
    const resource = new ResourceInformer(
      PODS,
      undefined,
      ['a', 'b'],
      (ns) =>
        new Informer(PODS, sources[ns as 'a' | 'b'], { logger: pino({ level: 'silent' }), clock: new FakeClock() }),
      () => {},
    );
    running.push(resource);
    const seen: string[] = [];
    resource.addIndex('app', (o) => [o.metadata?.labels?.app ?? '']);
    resource.addHandlers({ onAdd: (o) => seen.push(`before ${o.metadata?.name}`) });
    resource.start();
    resource.addHandlers({ onAdd: (o) => seen.push(`after ${o.metadata?.name}`) });
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(seen).toEqual(['before x', 'after x']);
    expect(names(resource.list({ index: { name: 'app', value: 'm' } }))).toEqual(['a/x']);
    // one namespace synced, the other not yet: not synced, and why
    expect(resource.hasSynced()).toBe(false);
    expect(resource.lastError()).toEqual(new Error('not yet'));
    const whenSynced = resource.whenSynced();
    await resource.stop();
    expect(await whenSynced).toBe(false);
  });

  test("only the current informers' 404 stops it: not one from before a restart, nor one after it stopped", async () => {
    const callbacks: (() => void)[] = [];
    const told: ResourceInformer[] = [];
    const resource = new ResourceInformer(
      PODS,
      undefined,
      undefined,
      (_ns, onNotServed) => {
        callbacks.push(onNotServed);
        return new Informer(PODS, source([]), { logger: pino({ level: 'silent' }) });
      },
      (r) => told.push(r),
    );
    running.push(resource);
    resource.start();
    await resource.stop();
    callbacks[0]!();
    expect(resource.state).toBe('stopped');
    resource.start();
    callbacks[0]!();
    expect(resource.state).toBe('running');
    callbacks[1]!();
    expect(resource.state).toBe('unserved');
    await new Promise((r) => setImmediate(r));
    expect(told).toEqual([resource]);
  });

  test('an index name declared again with another function is an error', () => {
    const resource = new ResourceInformer(
      PODS,
      undefined,
      undefined,
      () => {
        throw new Error('not started');
      },
      () => {},
    );
    resource.addIndex('app', () => []);
    expect(() => resource.addIndex('app', () => [])).toThrow(
      'pods/v1 already has an index named app with another function',
    );
  });

  test('stopped, it reads as empty and records nothing', () => {
    for (const namespaces of [undefined, ['a']]) {
      const resource = new ResourceInformer(
        PODS,
        undefined,
        namespaces,
        () => {
          throw new Error('not started');
        },
        () => {},
      );
      expect(resource.list()).toEqual([]);
      expect(resource.list({ namespace: 'a' })).toEqual([]);
      expect(resource.get({ namespace: 'a', name: 'x' })).toBeUndefined();
      expect(resource.recordWrite(pod('a', 'x'), undefined)).toBe(false);
    }
  });

  test('an index declared while running reaches every informer; declaring it again changes nothing', async () => {
    const { resource } = await started(
      ['a', 'b'],
      [pod('a', 'x', { app: 'm' }), pod('b', 'y', { app: 'm' }), pod('b', 'z', { app: 'n' })],
    );
    const byApp = (o: KubernetesObject) => [o.metadata?.labels?.app ?? ''];
    resource.addIndex('app', byApp);
    expect(names(resource.list({ index: { name: 'app', value: 'm' } }))).toEqual(['a/x', 'b/y']);
    resource.addIndex('app', byApp);
    expect(names(resource.list({ index: { name: 'app', value: 'n' } }))).toEqual(['b/z']);
  });
});
