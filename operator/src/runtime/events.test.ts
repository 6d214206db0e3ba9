import { isDeepStrictEqual } from 'node:util';
import pino from 'pino';
import type { Client } from './client.js';
import { toMicroTime } from './clock.js';
import { FakeClock } from './testing/fake-clock.js';
import { ApiError, NotFoundError } from './errors.js';
import { eventDedupKey, Recorder, type RecorderOptions } from './events.js';
import type { KubernetesObject } from './types.js';

const tj: KubernetesObject = {
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'TrainingJob',
  metadata: { namespace: 'ml', name: 'tj', uid: 'uid-1' },
};

/** The only resource the fake API serves: Events are written in events.k8s.io/v1, not the core API's v1. */
const EVENTS = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
const served = (ref: unknown): void => {
  if (!isDeepStrictEqual(ref, EVENTS)) throw new Error(`the server does not serve ${JSON.stringify(ref)}`);
};

function fakeClient() {
  const calls: { op: string; name: string; body: Record<string, unknown> }[] = [];
  let failNextPatch: Error | undefined;
  const client = {
    create: async (ref: unknown, obj: KubernetesObject) => {
      served(ref);
      calls.push({ op: 'create', name: obj.metadata!.name!, body: obj });
      return obj;
    },
    patch: async (ref: unknown, key: { name: string }, patch: Record<string, unknown>) => {
      served(ref);
      if (failNextPatch) {
        const err = failNextPatch;
        failNextPatch = undefined;
        throw err;
      }
      calls.push({ op: 'patch', name: key.name, body: patch });
      return {};
    },
  };
  return {
    client: client as unknown as Client,
    calls,
    expireEvent: () => (failNextPatch = new NotFoundError(404, 'NotFound', 'gone')),
    refuseNextPatch: () => (failNextPatch = new ApiError(500, 'InternalError', 'etcd unavailable')),
  };
}

describe('event dedup keying', () => {
  test('same object, type, reason and message → same key; any difference → another key', () => {
    const k = eventDedupKey(tj, 'Warning', 'Failed', 'oom');
    expect(eventDedupKey({ ...tj }, 'Warning', 'Failed', 'oom')).toBe(k);
    expect(eventDedupKey(tj, 'Normal', 'Failed', 'oom')).not.toBe(k);
    expect(eventDedupKey(tj, 'Warning', 'Retrying', 'oom')).not.toBe(k);
    expect(eventDedupKey(tj, 'Warning', 'Failed', 'oom2')).not.toBe(k);
    expect(eventDedupKey({ ...tj, metadata: { ...tj.metadata, uid: 'uid-2' } }, 'Warning', 'Failed', 'oom')).not.toBe(
      k,
    );
  });

  test('objects without uid are keyed by kind/namespace/name', () => {
    const a = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'a', name: 'p' } };
    expect(eventDedupKey(a, 'Normal', 'R', 'm')).not.toBe(
      eventDedupKey({ ...a, metadata: { namespace: 'b', name: 'p' } }, 'Normal', 'R', 'm'),
    );
  });

  test('MicroTime has six fractional digits', () => {
    expect(toMicroTime(new Date('2026-01-01T00:00:00.123Z'))).toBe('2026-01-01T00:00:00.123000Z');
  });
});

describe('Recorder', () => {
  const newRecorder = (client: Client, clock: FakeClock, opts: Partial<RecorderOptions> = {}) =>
    new Recorder(client, {
      clock,
      logger: pino({ level: 'silent' }),
      reportingInstance: 'pod-1',
      windowMs: 60_000,
      ...opts,
    });

  test('creates one events.k8s.io/v1 Event, then bumps its series for repeats within the window', async () => {
    const clock = new FakeClock();
    const { client, calls } = fakeClient();
    const recorder = newRecorder(client, clock);
    await recorder.event(tj, 'Warning', 'BackOff', 'retrying');
    await recorder.flush();
    clock.advance(1000);
    await recorder.event(tj, 'Warning', 'BackOff', 'retrying');
    await recorder.flush();
    await recorder.event(tj, 'Warning', 'BackOff', 'retrying');
    await recorder.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'patch', 'patch']);
    expect(calls[0]!.body).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { namespace: 'ml' },
      type: 'Warning',
      reason: 'BackOff',
      note: 'retrying',
      reportingController: 'modelops.dev/operator',
      reportingInstance: 'pod-1',
      regarding: { kind: 'TrainingJob', name: 'tj', namespace: 'ml', uid: 'uid-1' },
    });
    expect(new Set(calls.map((c) => c.name)).size).toBe(1);
    expect(calls[2]!.body).toEqual({ series: { count: 3, lastObservedTime: toMicroTime(clock.now()) } });
  });

  test('a repeat after the window starts a new Event; a different message is its own Event', async () => {
    const clock = new FakeClock();
    const { client, calls } = fakeClient();
    const recorder = newRecorder(client, clock);
    await recorder.event(tj, 'Normal', 'Started', 'a');
    await recorder.event(tj, 'Normal', 'Started', 'b');
    clock.advance(60_001);
    await recorder.event(tj, 'Normal', 'Started', 'a');
    await recorder.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'create', 'create']);
  });

  test('when the Event being bumped has expired, a new one is created', async () => {
    const clock = new FakeClock();
    const { client, calls, expireEvent } = fakeClient();
    const recorder = newRecorder(client, clock);
    await recorder.event(tj, 'Normal', 'Started', 'a');
    await recorder.flush();
    expireEvent();
    await recorder.event(tj, 'Normal', 'Started', 'a');
    await recorder.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'create']);
    expect(calls[0]!.name).not.toBe(calls[1]!.name);
  });

  test('never rejects when the API refuses', async () => {
    const client = { create: async () => Promise.reject(new Error('forbidden')) } as unknown as Client;
    const recorder = newRecorder(client, new FakeClock());
    await expect(recorder.event(tj, 'Normal', 'X', 'y')).resolves.toBeUndefined();
    await expect(recorder.flush()).resolves.toBeUndefined();
  });

  /** A pino logger whose lines are kept, parsed, for the test to read. */
  function capturedLogger() {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { logger, lines };
  }

  test('a repeat exactly at the end of the window still joins the series', async () => {
    const clock = new FakeClock();
    const { client, calls } = fakeClient();
    const recorder = newRecorder(client, clock);
    clock.advance(5_000);
    await recorder.event(tj, 'Normal', 'Started', 'a');
    await recorder.flush();
    clock.advance(60_000);
    await recorder.event(tj, 'Normal', 'Started', 'a');
    await recorder.flush();
    clock.advance(60_001);
    await recorder.event(tj, 'Normal', 'Started', 'a');
    await recorder.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'patch', 'create']);
  });

  test('the default window is 10 minutes', async () => {
    const clock = new FakeClock();
    const { client, calls } = fakeClient();
    const recorder = new Recorder(client, { clock, logger: pino({ level: 'silent' }), reportingInstance: 'pod-1' });
    await recorder.event(tj, 'Normal', 'Started', 'a');
    await recorder.flush();
    clock.advance(10 * 60_000);
    await recorder.event(tj, 'Normal', 'Started', 'a');
    await recorder.flush();
    clock.advance(10 * 60_000 + 1);
    await recorder.event(tj, 'Normal', 'Started', 'a');
    await recorder.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'patch', 'create']);
  });

  test('an Event about a cluster-scoped object lands in the default namespace', async () => {
    const { client, calls } = fakeClient();
    const recorder = newRecorder(client, new FakeClock());
    const node: KubernetesObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } };
    await recorder.event(node, 'Warning', 'NotReady', 'kubelet stopped posting status');
    // the same node, as some callers spell it: an empty namespace is no namespace
    await recorder.event(
      { ...node, metadata: { name: 'node-1', namespace: '' } },
      'Warning',
      'NotReady',
      'kubelet stopped posting status',
    );
    await recorder.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'patch']);
    expect(calls[0]!.body).toMatchObject({
      metadata: { namespace: 'default' },
      regarding: { kind: 'Node', name: 'node-1' },
    });
    expect(calls[0]!.name).toMatch(/^node-1\.[0-9a-f]+$/);
  });

  test('an object without metadata still gets an Event, named after "unknown"', async () => {
    const { client, calls } = fakeClient();
    const recorder = newRecorder(client, new FakeClock());
    await expect(recorder.event({ apiVersion: 'v1', kind: 'Namespace' }, 'Normal', 'R', 'm')).resolves.toBeUndefined();
    await recorder.flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body).toMatchObject({ metadata: { namespace: 'default' } });
    expect(calls[0]!.name).toMatch(/^unknown\.[0-9a-f]+$/);
  });

  test('a long object name is cut so the Event name stays a valid name', async () => {
    const { client, calls } = fakeClient();
    const recorder = newRecorder(client, new FakeClock());
    const name = 'x'.repeat(253);
    await recorder.event({ ...tj, metadata: { ...tj.metadata, name } }, 'Normal', 'R', 'm');
    await recorder.flush();
    expect(calls[0]!.name.length).toBeLessThanOrEqual(253);
    expect(calls[0]!.name).toMatch(/^x{200}\.[0-9a-f]+$/);
  });

  test('the note is cut to the 1024 characters the API server accepts', async () => {
    const { client, calls } = fakeClient();
    const recorder = newRecorder(client, new FakeClock());
    const message = 'a'.repeat(1024) + 'b'.repeat(100);
    await recorder.event(tj, 'Warning', 'Failed', message);
    await recorder.flush();
    expect(calls[0]!.body.note).toBe('a'.repeat(1024));
  });

  test('a bump refused for a reason other than NotFound keeps the series on the same Event', async () => {
    const clock = new FakeClock();
    const { client, calls, refuseNextPatch } = fakeClient();
    const recorder = newRecorder(client, clock);
    await recorder.event(tj, 'Warning', 'BackOff', 'retrying');
    await recorder.flush();
    refuseNextPatch();
    await recorder.event(tj, 'Warning', 'BackOff', 'retrying');
    await recorder.flush();
    await recorder.event(tj, 'Warning', 'BackOff', 'retrying');
    await recorder.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'patch']);
    expect(calls[1]!.name).toBe(calls[0]!.name);
    expect(calls[1]!.body).toMatchObject({ series: { count: 3 } });
  });

  test('at most maxSeries series are remembered; the least recently seen is forgotten first', async () => {
    const clock = new FakeClock();
    const { client, calls } = fakeClient();
    const recorder = newRecorder(client, clock, { maxSeries: 2 });
    const obj = (name: string): KubernetesObject => ({ ...tj, metadata: { ...tj.metadata, name, uid: name } });
    const record = async (name: string) => {
      await recorder.event(obj(name), 'Normal', 'R', 'm');
      await recorder.flush();
      return calls.at(-1)!.op + ' ' + calls.at(-1)!.name.split('.')[0];
    };
    expect(await record('a')).toBe('create a');
    expect(await record('b')).toBe('create b');
    expect(await record('a')).toBe('patch a'); // two series fit
    expect(await record('c')).toBe('create c'); // forgets b, the least recently seen
    expect(await record('a')).toBe('patch a');
    expect(await record('b')).toBe('create b');
  });

  test('a failed write is logged with its error and reason', async () => {
    const client = { create: async () => Promise.reject(new Error('forbidden')) } as unknown as Client;
    const { logger, lines } = capturedLogger();
    const recorder = newRecorder(client, new FakeClock(), { logger });
    await recorder.event(tj, 'Normal', 'Scaled', 'y');
    await recorder.flush();
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'could not record event', reason: 'Scaled', err: 'Error: forbidden' }),
    ]);
  });

  describe('in the background', () => {
    /** A client whose creates wait until released, one by one, in order. */
    function heldClient() {
      const held: { name: string; release: () => void }[] = [];
      const patches: unknown[] = [];
      const client = {
        create: (_ref: unknown, obj: KubernetesObject) =>
          new Promise<KubernetesObject>((resolve) =>
            held.push({ name: obj.metadata!.name!, release: () => resolve(obj) }),
          ),
        patch: async (_ref: unknown, _key: unknown, patch: unknown) => {
          patches.push(patch);
          return {};
        },
      } as unknown as Client;
      return { client, held, patches };
    }
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const object = (name: string): KubernetesObject => ({ ...tj, metadata: { ...tj.metadata, name, uid: name } });

    test('event() returns before the API server has answered: a reconcile never waits on an Event', async () => {
      const { client, held } = heldClient();
      const recorder = newRecorder(client, new FakeClock());
      await recorder.event(tj, 'Normal', 'Created', 'Job tj created'); // resolves although the create hangs
      await settle();
      expect(held).toHaveLength(1);
      let flushed = false;
      const flush = recorder.flush().then(() => (flushed = true));
      await settle();
      expect(flushed).toBe(false); // flush waits for the write
      held[0]!.release();
      await flush;
      expect(flushed).toBe(true);
    });

    test('at most maxInFlight writes at once; the rest wait their turn', async () => {
      const { client, held } = heldClient();
      const recorder = newRecorder(client, new FakeClock(), { maxInFlight: 2 });
      for (const name of ['a', 'b', 'c', 'd']) await recorder.event(object(name), 'Normal', 'R', 'm');
      await settle();
      expect(held.map((h) => h.name.split('.')[0])).toEqual(['a', 'b']);
      held[0]!.release();
      await settle();
      expect(held.map((h) => h.name.split('.')[0])).toEqual(['a', 'b', 'c']);
      for (const h of held.slice(1)) h.release();
      await settle();
      held[3]!.release();
      await recorder.flush();
      expect(held.map((h) => h.name.split('.')[0])).toEqual(['a', 'b', 'c', 'd']);
    });

    test('a finished write frees its slot for later Events', async () => {
      const { client, calls } = fakeClient();
      const recorder = newRecorder(client, new FakeClock(), { maxInFlight: 1 });
      await recorder.event(object('a'), 'Normal', 'R', 'm');
      await recorder.flush();
      await recorder.event(object('b'), 'Normal', 'R', 'm');
      await settle();
      expect(calls.map((c) => c.name.split('.')[0])).toEqual(['a', 'b']);
      await recorder.flush();
    });

    test('a backlog past maxQueued is dropped, not queued without bound', async () => {
      const { client, held } = heldClient();
      const { logger, lines } = capturedLogger();
      const recorder = newRecorder(client, new FakeClock(), { maxInFlight: 1, maxQueued: 2, logger });
      for (const name of ['a', 'b', 'c']) await recorder.event(object(name), 'Normal', 'R', 'm');
      for (let i = 0; i < 2; i++) {
        await settle();
        held.at(-1)!.release();
      }
      await recorder.flush();
      expect(held.map((h) => h.name.split('.')[0])).toEqual(['a', 'b']);
      expect(lines).toEqual([
        expect.objectContaining({
          level: 40,
          msg: 'event dropped: too many Events waiting to be written',
          reason: 'R',
          queued: 2,
        }),
      ]);
    });

    test('repeats while a bump is waiting join it: one patch carries the latest count', async () => {
      const { client, held, patches } = heldClient();
      const recorder = newRecorder(client, new FakeClock());
      for (let i = 0; i < 5; i++) await recorder.event(tj, 'Warning', 'BackOff', 'retrying');
      await settle();
      held[0]!.release(); // the create; the bumps were queued behind it
      await recorder.flush();
      expect(patches).toEqual([{ series: { count: 5, lastObservedTime: expect.any(String) } }]);
    });
  });
});
