import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { RestClient, type WatchEvent } from './client.js';
import { FakeClock } from './testing/fake-clock.js';
import { ApiError, GoneError, NotFoundError } from './errors.js';
import { cacheable, Informer, listerWatcher, type ListerWatcher } from './informer.js';
import { RestTransport } from './rest.js';
import { localKubeConfig } from './test-kubeconfig.test-helpers.js';
import type { KubernetesObject, ObjectList, ResourceRef } from './types.js';

const pods: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
const pod = (name: string, rv: string): KubernetesObject => ({
  metadata: { namespace: 'ns', name, resourceVersion: rv },
});

/**
 * A scripted API server: each list() answers from `lists` ('never': no answer, only the caller's abort ends it),
 * each watch() is a handle the test drives.
 */
class FakeSource implements ListerWatcher {
  lists: (ObjectList | 'never')[] = [];
  listCalls = 0;
  listSignals: AbortSignal[] = [];
  watches: { rv: string; emit(e: WatchEvent): void; end(): void; fail(err: unknown): void }[] = [];

  async list(signal: AbortSignal): Promise<ObjectList> {
    this.listCalls++;
    this.listSignals.push(signal);
    const next = this.lists.shift();
    if (!next) throw new Error('unexpected list');
    if (next === 'never')
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    return next;
  }

  watch(rv: string, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new Error('aborted')));
      this.watches.push({ rv, emit: onEvent, end: resolve, fail: reject });
    });
  }
}

/** A logger at `level` whose lines are kept, parsed. */
function captured(level: string) {
  const logs: Record<string, unknown>[] = [];
  return { logs, logger: pino({ level }, { write: (line: string) => void logs.push(JSON.parse(line)) }) };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function setup() {
  const clock = new FakeClock();
  const source = new FakeSource();
  const informer = new Informer(pods, source, {
    logger: pino({ level: 'silent' }),
    clock,
    backoff: { baseMs: 100, maxMs: 1000 },
  });
  const seen: string[] = [];
  informer.addHandlers({
    onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
    onUpdate: (a, b) =>
      seen.push(`update ${b.metadata?.name} ${a.metadata?.resourceVersion}->${b.metadata?.resourceVersion}`),
    onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
  });
  return { clock, source, informer, seen };
}

describe('Informer', () => {
  test('stop() during a list aborts it: stop() does not wait for the answer, and the informer never syncs', async () => {
    const { source, informer } = setup();
    source.lists.push('never');
    informer.start();
    await flush();
    const synced = informer.whenSynced();
    await informer.stop();
    expect(await synced).toBe(false);
    expect(source.listSignals.map((s) => s.aborted)).toEqual([true]);
  });

  test('lists, reports synced, then watches from the list resourceVersion and applies events', async () => {
    const { source, informer, seen } = setup();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [pod('a', '5')] });
    informer.start();
    expect(await informer.whenSynced()).toBe(true);
    await flush();
    expect(source.watches[0]?.rv).toBe('10');
    source.watches[0]!.emit({ type: 'ADDED', object: pod('b', '11') });
    source.watches[0]!.emit({ type: 'MODIFIED', object: pod('a', '12') });
    source.watches[0]!.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } });
    source.watches[0]!.emit({ type: 'DELETED', object: pod('b', '13') });
    expect(seen).toEqual(['add a', 'add b', 'update a 5->12', 'delete b']);
    expect(informer.store.list().map((o) => o.metadata?.name)).toEqual(['a']);
    await informer.stop();
  });

  test('resumes a watch the server ended from the last seen resourceVersion (bookmarks included), without relisting', async () => {
    const { clock, source, informer } = setup();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [] });
    informer.start();
    await flush();
    source.watches[0]!.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } });
    source.watches[0]!.end();
    await flush();
    expect(source.watches[1]?.rv).toBe('20');
    // a watch that ends at once with nothing delivered backs off instead of spinning
    source.watches[1]!.end();
    await flush();
    expect(source.watches).toHaveLength(2);
    clock.advance(100);
    await flush();
    expect(source.watches[2]?.rv).toBe('20');
    expect(source.listCalls).toBe(1);
    await informer.stop();
  });

  test('relists on 410 Gone and emits deletes for objects that vanished meanwhile', async () => {
    const { source, informer, seen } = setup();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [pod('a', '1'), pod('b', '2')] });
    source.lists.push({ metadata: { resourceVersion: '30' }, items: [pod('a', '1'), pod('c', '25')] });
    informer.start();
    await flush();
    source.watches[0]!.fail(new GoneError(410, 'Expired', 'too old'));
    await flush();
    expect(source.listCalls).toBe(2);
    expect(seen).toEqual(['add a', 'add b', 'add c', 'delete b']);
    expect(source.watches[1]?.rv).toBe('30');
    await informer.stop();
  });

  test('backs off exponentially on errors and keeps trying; a healthy watch resets the backoff', async () => {
    const { clock, source, informer } = setup();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [] });
    informer.start();
    await flush();
    const failAndMeasure = async (): Promise<number> => {
      const before = source.watches.length;
      source.watches.at(-1)!.fail(new ApiError(503, 'ServiceUnavailable', 'down'));
      await flush();
      let waited = 0;
      while (source.watches.length === before && waited < 5000) {
        clock.advance(10);
        waited += 10;
        await flush();
      }
      return waited;
    };
    const delays = [
      await failAndMeasure(),
      await failAndMeasure(),
      await failAndMeasure(),
      await failAndMeasure(),
      await failAndMeasure(),
    ];
    // jittered into [d/2, d] for d = 100, 200, 400, 800, 1000 (cap)
    [100, 200, 400, 800, 1000].forEach((d, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(d / 2);
      expect(delays[i]).toBeLessThanOrEqual(d + 10);
    });
    source.watches.at(-1)!.emit({ type: 'ADDED', object: pod('x', '40') });
    source.watches.at(-1)!.end();
    await flush();
    expect(await failAndMeasure()).toBeLessThanOrEqual(110);
    expect(source.watches.at(-1)?.rv).toBe('40');
    await informer.stop();
  });

  test('resync re-delivers cached objects as updates', async () => {
    const clock = new FakeClock();
    const source = new FakeSource();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [pod('a', '1')] });
    const { logs, logger } = captured('error');
    const informer = new Informer(pods, source, { logger, clock, resyncPeriodMs: 1000 });
    const updates: string[] = [];
    informer.addHandlers({ onUpdate: (_, o) => updates.push(o.metadata!.name!) });
    informer.addHandlers({ onAdd: () => {} }); // no onUpdate: nothing to re-deliver to
    informer.start();
    await flush();
    clock.advance(1000);
    await flush();
    clock.advance(1000);
    await flush();
    expect(updates).toEqual(['a', 'a']);
    // stopped while waiting for the next period: nothing more
    await informer.stop();
    await flush();
    expect(updates).toEqual(['a', 'a']);
    expect(logs).toEqual([]);
  });

  test('what the cache keeps: the object without managedFields, with apiVersion and kind; the original untouched', () => {
    const listed = {
      metadata: { namespace: 'ns', name: 'a', labels: { x: 'y' }, managedFields: [{ manager: 'kubectl' }] },
      spec: { nodeName: 'n' },
    };
    expect(cacheable(pods, listed)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'ns', name: 'a', labels: { x: 'y' } },
      spec: { nodeName: 'n' },
    });
    expect(listed.metadata.managedFields).toHaveLength(1);
  });

  test('a write result taken into the store is kept without its managedFields too', async () => {
    const { source, informer } = setup();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [pod('a', '5')] });
    informer.start();
    await flush();
    informer.recordWrite({ ...pod('a', '6'), metadata: { ...pod('a', '6').metadata, managedFields: [{}] } }, '5');
    expect(informer.store.get({ namespace: 'ns', name: 'a' })?.metadata).not.toHaveProperty('managedFields');
    await informer.stop();
  });

  test('a write before the first list is not taken: there is no store state to check it against', () => {
    const { informer } = setup();
    expect(informer.recordWrite(pod('a', '1'), undefined)).toBe(false);
    expect(informer.store.list()).toEqual([]);
  });

  test('a list without a resourceVersion is a failure: reported as the last error and listed again', async () => {
    const { clock, source, informer } = setup();
    source.lists.push({ items: [pod('a', '1')] });
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [pod('a', '1')] });
    informer.start();
    await flush();
    expect(informer.lastError).toEqual(new Error('list response has no resourceVersion'));
    expect(source.watches).toHaveLength(0);
    clock.advance(100);
    await flush();
    expect(source.listCalls).toBe(2);
    expect(source.watches[0]?.rv).toBe('10');
    expect(informer.lastError).toBeUndefined();
    await informer.stop();
  });

  test('a throwing handler is logged and the others still run; a handler need not have every method', async () => {
    const { logs, logger } = captured('error');
    const source = new FakeSource();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [pod('a', '1'), pod('b', '1')] });
    source.lists.push({ metadata: { resourceVersion: '20' }, items: [pod('a', '2')] });
    const informer = new Informer(pods, source, { logger, clock: new FakeClock() });
    const seen: string[] = [];
    informer.addHandlers({
      onAdd: () => {
        throw new Error('boom');
      },
    });
    informer.addHandlers({ onAdd: (o) => seen.push(`add ${o.metadata?.name}`) });
    informer.addHandlers({ onDelete: (o) => seen.push(`delete ${o.metadata?.name}`) });
    informer.start();
    await flush();
    // a relist that finds `a` changed and `b` gone calls onUpdate and onDelete, which not every handler has
    source.watches[0]!.fail(new GoneError(410, 'Expired', 'too old'));
    await flush();
    expect(source.listCalls).toBe(2);
    expect(seen).toEqual(['add a', 'add b', 'delete b']);
    // and so do the watch's events
    source.watches[1]!.emit({ type: 'ADDED', object: pod('c', '21') });
    source.watches[1]!.emit({ type: 'MODIFIED', object: pod('c', '22') });
    source.watches[1]!.emit({ type: 'DELETED', object: pod('c', '23') });
    expect(seen).toEqual(['add a', 'add b', 'delete b', 'add c', 'delete c']);
    const threw = expect.objectContaining({
      msg: 'event handler threw',
      informer: 'pods',
      group: '',
      err: expect.objectContaining({ message: 'boom' }),
    });
    expect(logs).toEqual([threw, threw, threw]);
    await informer.stop();
  });

  test('what it logs: the first sync, a relist on 410, each failure with its retry delay', async () => {
    const { logs, logger } = captured('debug');
    const clock = new FakeClock();
    const source = new FakeSource();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [] });
    source.lists.push({ metadata: { resourceVersion: '20' }, items: [] });
    const informer = new Informer(pods, source, { logger, clock, backoff: { baseMs: 100, maxMs: 100 } });
    informer.start();
    await flush();
    source.watches[0]!.fail(new GoneError(410, 'Expired', 'too old'));
    await flush();
    source.watches[1]!.fail(new ApiError(503, 'ServiceUnavailable', 'down'));
    await flush();
    expect(logs).toEqual([
      expect.objectContaining({ msg: 'synced', objects: 0 }),
      expect.objectContaining({ msg: 'resourceVersion expired (410); relisting', resourceVersion: '10' }),
      expect.objectContaining({
        msg: 'list/watch failed; retrying',
        err: 'ApiError: down',
        retryInMs: expect.any(Number),
        failures: 1,
      }),
    ]);
    await informer.stop();
  });

  test('without a backoff policy it retries within 200 ms at first', async () => {
    const clock = new FakeClock();
    const source = new FakeSource();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [] });
    const informer = new Informer(pods, source, { logger: pino({ level: 'silent' }), clock });
    informer.start();
    await flush();
    source.watches[0]!.fail(new ApiError(503, 'ServiceUnavailable', 'down'));
    await flush();
    clock.advance(99);
    await flush();
    expect(source.watches).toHaveLength(1);
    clock.advance(101);
    await flush();
    expect(source.watches).toHaveLength(2);
    await informer.stop();
  });

  test('a watch the server ends after a quiet second was healthy and is resumed at once; one ending sooner is a failure', async () => {
    const { clock, source, informer } = setup();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [] });
    clock.advance(5000);
    informer.start();
    await flush();
    clock.advance(1000);
    source.watches[0]!.end();
    await flush();
    expect(source.watches).toHaveLength(2);
    clock.advance(999);
    source.watches[1]!.end();
    await flush();
    expect(source.watches).toHaveLength(2);
    expect(informer.lastError).toEqual(new Error('watch closed before delivering anything'));
    clock.advance(100);
    await flush();
    expect(source.watches).toHaveLength(3);
    await informer.stop();
  });

  test('a resource not served (404) is reported and retried; with no one to tell, retried all the same', async () => {
    const notFound = () => new NotFoundError(404, 'NotFound', 'the server could not find the requested resource');
    for (const told of [true, false]) {
      const clock = new FakeClock();
      const source = new FakeSource();
      let reports = 0;
      const informer = new Informer(pods, source, {
        logger: pino({ level: 'silent' }),
        clock,
        backoff: { baseMs: 100, maxMs: 100 },
        ...(told ? { onNotServed: () => reports++ } : {}),
      });
      source.list = async () => {
        source.listCalls++;
        throw notFound();
      };
      informer.start();
      await flush();
      clock.advance(100);
      await flush();
      expect(source.listCalls).toBe(2);
      expect(reports).toBe(told ? 2 : 0);
      expect(informer.lastError).toBeInstanceOf(NotFoundError);
      await informer.stop();
    }
  });

  test('stopped by the one told it is not served, it does not count that as a failure to retry', async () => {
    const { logs, logger } = captured('warn');
    const source = new FakeSource();
    const informer: Informer = new Informer(pods, source, {
      logger,
      clock: new FakeClock(),
      onNotServed: () => void informer.stop(),
    });
    source.list = async () => {
      throw new NotFoundError(404, 'NotFound', 'not served');
    };
    informer.start();
    expect(await informer.whenSynced()).toBe(false);
    await informer.stop();
    expect(informer.lastError).toBeUndefined();
    expect(logs).toEqual([]);
  });

  test('stopped before its first list, it reports never having synced and lists no more', async () => {
    const { clock, source, informer } = setup();
    informer.start();
    await flush();
    expect(source.listCalls).toBe(1); // no list answer scripted: it failed and waits to retry
    await informer.stop();
    expect(await informer.whenSynced()).toBe(false);
    clock.advance(10_000);
    await flush();
    expect(source.listCalls).toBe(1);
  });

  test('a 404 answered after it was stopped is not reported: a stopped informer tells no one anything', async () => {
    const source = new FakeSource();
    let answer!: (err: unknown) => void;
    source.list = () => {
      source.listCalls++;
      return new Promise((_resolve, reject) => (answer = reject));
    };
    let reports = 0;
    const informer = new Informer(pods, source, {
      logger: pino({ level: 'silent' }),
      clock: new FakeClock(),
      onNotServed: () => reports++,
    });
    informer.start();
    await flush();
    const stopped = informer.stop();
    answer(new NotFoundError(404, 'NotFound', 'the server could not find the requested resource'));
    await stopped;
    expect(source.listCalls).toBe(1);
    expect(reports).toBe(0);
    expect(informer.lastError).toBeUndefined();
  });

  test('a deletion hands the handlers the last state the cache had, or the deleted object when it had none', async () => {
    const { source, informer, seen } = setup();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [pod('a', '5')] });
    const deleted: string[] = [];
    informer.addHandlers({ onDelete: (o) => deleted.push(`${o.metadata?.name} ${o.metadata?.resourceVersion}`) });
    informer.start();
    await flush();
    source.watches[0]!.emit({ type: 'DELETED', object: pod('a', '13') });
    source.watches[0]!.emit({ type: 'DELETED', object: pod('z', '14') });
    expect(deleted).toEqual(['a 5', 'z 14']);
    expect(seen).toEqual(['add a', 'delete a', 'delete z']);
    await informer.stop();
  });

  test('it remembers the last 4096 deleted uids: a create answered after an older deletion is taken', async () => {
    const { source, informer } = setup();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [] });
    informer.start();
    await flush();
    const numbered = (i: number): KubernetesObject => ({
      metadata: { namespace: 'ns', name: `p${i}`, uid: `uid-${i}`, resourceVersion: String(100 + i) },
    });
    for (let i = 0; i <= 4096; i++) source.watches[0]!.emit({ type: 'DELETED', object: numbered(i) });
    expect(informer.recordWrite(numbered(1), undefined)).toBe(false);
    expect(informer.recordWrite(numbered(0), undefined)).toBe(true);
    await informer.stop();
  });

  test('an update of an object the store does not hold is not taken', async () => {
    const { source, informer } = setup();
    source.lists.push({ metadata: { resourceVersion: '10' }, items: [] });
    informer.start();
    await flush();
    expect(informer.recordWrite(pod('a', '6'), '5')).toBe(false);
    expect(informer.store.list()).toEqual([]);
    await informer.stop();
  });

  test('the list and watch it makes: namespace and selector, kept objects typed and without managedFields, the signal obeyed', async () => {
    const requests: string[] = [];
    const item = { metadata: { namespace: 'ns', name: 'a', resourceVersion: '5', managedFields: [{}] } };
    const server = http.createServer((req, res) => {
      requests.push(req.url!);
      res.writeHead(200, { 'content-type': 'application/json' });
      if (!req.url!.includes('watch=true'))
        return void res.end(JSON.stringify({ metadata: { resourceVersion: '5' }, items: [item] }));
      res.end(
        `${JSON.stringify({ type: 'MODIFIED', object: { ...item, metadata: { ...item.metadata, resourceVersion: '6' } } })}\n`,
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const transport = new RestTransport(localKubeConfig((server.address() as AddressInfo).port));
    try {
      const lw = listerWatcher(new RestClient(transport), pods, {
        watchTimeoutSeconds: 300,
        idleTimeoutMs: 10_000,
        labelSelector: 'app=a',
        namespace: 'ns',
      });
      const typed = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns', name: 'a', resourceVersion: '5' } };
      // The informer's signal reaches the request: once it has fired, a list sends nothing.
      await expect(lw.list(AbortSignal.abort(new Error('informer stopped')))).rejects.toThrow('informer stopped');
      expect((await lw.list(new AbortController().signal)).items).toEqual([typed]);
      const events: WatchEvent[] = [];
      await lw.watch('5', (e) => events.push(e), new AbortController().signal);
      expect(events).toEqual([
        { type: 'MODIFIED', object: { ...typed, metadata: { ...typed.metadata, resourceVersion: '6' } } },
      ]);
      expect(requests).toEqual([
        '/api/v1/namespaces/ns/pods?limit=500&labelSelector=app%3Da',
        '/api/v1/namespaces/ns/pods?watch=true&resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=300&labelSelector=app%3Da',
      ]);
    } finally {
      transport.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  describe('read your own writes (recordWrite)', () => {
    const withUid = (o: KubernetesObject, uid: string): KubernetesObject => ({
      ...o,
      metadata: { ...o.metadata, uid },
    });

    async function synced(items: KubernetesObject[]) {
      const t = setup();
      t.source.lists.push({ metadata: { resourceVersion: '10' }, items });
      t.informer.start();
      await flush();
      return t;
    }

    test("an update's result replaces the version it was conditioned on at once; the watch event still runs the handlers", async () => {
      const { source, informer, seen } = await synced([pod('a', '5')]);
      expect(informer.recordWrite(pod('a', '12'), '5')).toBe(true);
      expect(informer.store.get({ namespace: 'ns', name: 'a' })?.metadata?.resourceVersion).toBe('12');
      expect(seen).toEqual(['add a']); // no handler for the write itself
      source.watches[0]!.emit({ type: 'MODIFIED', object: pod('a', '12') });
      expect(seen).toEqual(['add a', 'update a 12->12']);
      await informer.stop();
    });

    test('an update conditioned on a version the store no longer holds is ignored: the store has newer', async () => {
      const { source, informer } = await synced([pod('a', '5')]);
      source.watches[0]!.emit({ type: 'MODIFIED', object: pod('a', '12') });
      source.watches[0]!.emit({ type: 'MODIFIED', object: pod('a', '13') });
      expect(informer.recordWrite(pod('a', '12'), '5')).toBe(false);
      expect(informer.store.get({ namespace: 'ns', name: 'a' })?.metadata?.resourceVersion).toBe('13');
      await informer.stop();
    });

    test("a create's result is stored unless the store has the object, or saw it deleted meanwhile", async () => {
      const { source, informer } = await synced([]);
      expect(informer.recordWrite(withUid(pod('b', '11'), 'uid-b'), undefined)).toBe(true);
      expect(informer.store.get({ namespace: 'ns', name: 'b' })).toBeDefined();
      // the watch has brought c and its deletion before the create's answer was processed
      source.watches[0]!.emit({ type: 'ADDED', object: withUid(pod('c', '12'), 'uid-c') });
      source.watches[0]!.emit({ type: 'DELETED', object: withUid(pod('c', '13'), 'uid-c') });
      expect(informer.recordWrite(withUid(pod('c', '12'), 'uid-c'), undefined)).toBe(false);
      expect(informer.store.get({ namespace: 'ns', name: 'c' })).toBeUndefined();
      // the watch already brought d (and maybe more): its create's answer must not replace that
      source.watches[0]!.emit({ type: 'ADDED', object: withUid(pod('d', '14'), 'uid-d') });
      source.watches[0]!.emit({ type: 'MODIFIED', object: withUid(pod('d', '15'), 'uid-d') });
      expect(informer.recordWrite(withUid(pod('d', '14'), 'uid-d'), undefined)).toBe(false);
      expect(informer.store.get({ namespace: 'ns', name: 'd' })?.metadata?.resourceVersion).toBe('15');
      await informer.stop();
    });

    test('the stored copy is frozen; the object the writer got back is not', async () => {
      const { informer } = await synced([pod('a', '5')]);
      const result = pod('a', '6');
      informer.recordWrite(result, '5');
      expect(Object.isFrozen(informer.store.get({ namespace: 'ns', name: 'a' }))).toBe(true);
      expect(Object.isFrozen(result)).toBe(false);
      await informer.stop();
    });
  });
});
