import pino from 'pino';
import type { Client } from './client.js';
import { toMicroTime } from './clock.js';
import { FakeClock } from './testing/fake-clock.js';
import { NotFoundError } from './errors.js';
import { eventDedupKey, Recorder } from './events.js';
import type { KubernetesObject } from './types.js';

const tj: KubernetesObject = {
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'TrainingJob',
  metadata: { namespace: 'ml', name: 'tj', uid: 'uid-1' },
};

function fakeClient() {
  const calls: { op: string; name: string; body: Record<string, unknown> }[] = [];
  let failNextPatch = false;
  const client = {
    create: async (_ref: unknown, obj: KubernetesObject) => {
      calls.push({ op: 'create', name: obj.metadata!.name!, body: obj });
      return obj;
    },
    patch: async (_ref: unknown, key: { name: string }, patch: Record<string, unknown>) => {
      if (failNextPatch) {
        failNextPatch = false;
        throw new NotFoundError(404, 'NotFound', 'gone');
      }
      calls.push({ op: 'patch', name: key.name, body: patch });
      return {};
    },
  };
  return { client: client as unknown as Client, calls, expireEvent: () => (failNextPatch = true) };
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
  const newRecorder = (client: Client, clock: FakeClock, opts: { maxInFlight?: number; maxQueued?: number } = {}) =>
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

    test('a backlog past maxQueued is dropped, not queued without bound', async () => {
      const { client, held } = heldClient();
      const recorder = newRecorder(client, new FakeClock(), { maxInFlight: 1, maxQueued: 2 });
      for (const name of ['a', 'b', 'c']) await recorder.event(object(name), 'Normal', 'R', 'm');
      for (let i = 0; i < 2; i++) {
        await settle();
        held.at(-1)!.release();
      }
      await recorder.flush();
      expect(held.map((h) => h.name.split('.')[0])).toEqual(['a', 'b']);
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
