import { FakeClock } from './testing/fake-clock.js';
import { WorkQueue } from './queue.js';

function newQueue(clock = new FakeClock()) {
  return { clock, queue: new WorkQueue<string>({ clock, backoff: { baseMs: 5, maxMs: 1_000_000 } }) };
}

/** get() that must not block: the key must already be available. */
async function take(queue: WorkQueue<string>): Promise<string | undefined> {
  let settled = false;
  const p = queue.get().then((k) => ((settled = true), k));
  await Promise.resolve();
  await Promise.resolve();
  if (!settled) throw new Error('get() would block');
  return p;
}

/** Every queued key, in the order get() hands them out. */
async function takeAll(queue: WorkQueue<string>): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len()) keys.push((await take(queue))!);
  return keys;
}

async function isBlocked(queue: WorkQueue<string>): Promise<boolean> {
  let settled = false;
  void queue.get().then(() => (settled = true));
  await Promise.resolve();
  await Promise.resolve();
  return !settled;
}

describe('WorkQueue', () => {
  test('dedupes a key added several times before it is processed', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).toBe(2);
    expect(await take(queue)).toBe('ns/a');
    expect(await take(queue)).toBe('ns/b');
  });

  test('never hands one key to two workers: an add during processing is re-queued by done()', async () => {
    const { queue } = newQueue();
    queue.add('k');
    const key = await take(queue);
    queue.add('k');
    queue.add('k');
    expect(queue.len()).toBe(0);
    expect(await isBlocked(queue)).toBe(true); // a second worker waits
    queue.done(key!);
    expect(queue.isProcessing('k')).toBe(true); // handed straight to the waiting worker, once
    expect(queue.len()).toBe(0);
  });

  test('hands out the higher priority first, FIFO within a priority', async () => {
    const { queue } = newQueue();
    queue.add('follow-up-1');
    queue.add('asked-1', 1);
    queue.add('follow-up-2', 0);
    queue.add('asked-2', 1);
    expect(await takeAll(queue)).toEqual(['asked-1', 'asked-2', 'follow-up-1', 'follow-up-2']);
  });

  test('a queued key added again with a higher priority moves up, once; a lower priority leaves it', async () => {
    const { queue } = newQueue();
    queue.add('a', 1);
    queue.add('b');
    queue.add('c');
    queue.add('c', 1); // up, behind a
    queue.add('a', 0); // stays where it is
    expect(await takeAll(queue)).toEqual(['a', 'c', 'b']);
  });

  test('a key raised while it is processed is re-queued with the higher priority by done()', async () => {
    const { queue } = newQueue();
    queue.add('k');
    await take(queue);
    queue.add('k');
    queue.add('other');
    queue.add('k', 1);
    queue.done('k');
    expect(await takeAll(queue)).toEqual(['k', 'other']);
  });

  describe('lowPriorityLimit: follow-ups (priority 0 or lower) get at most that many workers', () => {
    const limited = (limit: number) => new WorkQueue<string>({ clock: new FakeClock(), lowPriorityLimit: limit });

    test('a worker past the limit waits while follow-ups queue, and takes what a user asks at once', async () => {
      const queue = limited(2);
      for (const key of ['f1', 'f2', 'f3']) queue.add(key);
      expect([await take(queue), await take(queue)]).toEqual(['f1', 'f2']);
      const third = queue.get();
      expect(await isBlocked(queue)).toBe(true); // a fourth worker waits too
      expect(queue.len()).toBe(1); // f3 is held back, not lost
      queue.add('asked', 1);
      expect(await third).toBe('asked');
      expect(queue.isProcessing('f3')).toBe(false);
    });

    test('a follow-up done frees its slot for the next follow-up; a user change done does not count', async () => {
      const queue = limited(1);
      queue.add('asked', 1);
      queue.add('f1');
      queue.add('f2', -1);
      expect([await take(queue), await take(queue)]).toEqual(['asked', 'f1']);
      const next = queue.get();
      queue.done('asked');
      expect(queue.isProcessing('f2')).toBe(false);
      queue.done('f1');
      expect(await next).toBe('f2');
    });

    test('a follow-up re-queued by its own done() keeps the slot it frees for the first follow-up in line', async () => {
      const queue = limited(1);
      queue.add('f1');
      await take(queue);
      queue.add('f2');
      queue.add('f1'); // changed while processed
      const next = queue.get();
      queue.done('f1');
      expect(await next).toBe('f2');
      expect(await isBlocked(queue)).toBe(true);
      expect(queue.len()).toBe(1); // f1, behind f2's slot
    });

    test('a held-back follow-up raised to a user change goes to a waiting worker at once', async () => {
      const queue = limited(1);
      queue.add('f1');
      queue.add('f2');
      await take(queue);
      const waiting = queue.get();
      queue.add('f2', 1);
      expect(await waiting).toBe('f2');
      expect(queue.len()).toBe(0);
    });
  });

  test('a waiting worker is woken by add()', async () => {
    const { queue } = newQueue();
    const got = queue.get();
    queue.add('x');
    expect(await got).toBe('x');
  });

  test('per-key backoff doubles from 5 ms, is capped, and resets on forget()', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({ clock, backoff: { baseMs: 5, maxMs: 40 } });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = clock.monotonicMs();
      queue.addRateLimited('k');
      for (let ms = 0; queue.len() === 0 && ms < 1000; ms++) clock.advance(1);
      delays.push(clock.monotonicMs() - before);
      queue.done((await take(queue))!);
    }
    expect(delays).toEqual([5, 10, 20, 40, 40, 40]);
    expect(queue.numRequeues('k')).toBe(6);
    queue.forget('k');
    expect(queue.numRequeues('k')).toBe(0);
    queue.addRateLimited('k');
    clock.advance(5);
    expect(queue.len()).toBe(1);
  });

  test('backoff is per key', () => {
    const { clock, queue } = newQueue();
    queue.addRateLimited('a');
    queue.addRateLimited('a');
    queue.addRateLimited('b');
    expect(queue.numRequeues('a')).toBe(2);
    expect(queue.numRequeues('b')).toBe(1);
    clock.advance(5);
    expect(queue.len()).toBe(2); // a's earlier 5 ms deadline wins over its later 10 ms one
  });

  test('addAfter adds the key when the delay elapses; the earliest of several delays wins', async () => {
    const { clock, queue } = newQueue();
    queue.addAfter('k', 1000);
    queue.addAfter('k', 300);
    queue.addAfter('k', 2000);
    clock.advance(299);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(await take(queue)).toBe('k');
    queue.done('k');
    clock.advance(5000);
    expect(queue.len()).toBe(0); // the later deadlines were dropped, not fired
  });

  test('addAfter with no delay adds at once', () => {
    const { queue } = newQueue();
    queue.addAfter('k', 0);
    expect(queue.len()).toBe(1);
  });

  test('shutdown drains in-flight work and hands out no more keys', async () => {
    const { clock, queue } = newQueue();
    queue.add('busy');
    queue.add('queued');
    queue.addAfter('later', 100);
    const busy = await take(queue);
    const waiter = queue.get(); // returns 'queued'
    expect(await waiter).toBe('queued');
    queue.done('queued');
    queue.add('another');

    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false); // 'busy' still in flight
    expect(await queue.get()).toBeUndefined();
    queue.add('ignored');
    queue.addAfter('ignored-later', 10);
    queue.addRateLimited('ignored-failure');
    expect(clock.pendingTimers()).toBe(0);
    expect(queue.numRequeues('ignored-failure')).toBe(0);
    clock.advance(1000);
    expect(queue.len()).toBe(0);
    queue.done(busy!);
    await drain;
    expect(drained).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  test('shutdown waits for every key in flight, not the first to finish', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    await takeAll(queue);
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => (drained = true));
    queue.done('a');
    await Promise.resolve();
    expect(drained).toBe(false);
    queue.done('b');
    await drain;
    expect(drained).toBe(true);
  });

  test('shutdown wakes idle workers', async () => {
    const { queue } = newQueue();
    const w1 = queue.get();
    const w2 = queue.get();
    await queue.shutDownWithDrain();
    expect(await w1).toBeUndefined();
    expect(await w2).toBeUndefined();
  });

  test('reports queue latency and work duration from the injected clock', async () => {
    const clock = new FakeClock();
    const seen = { latency: [] as number[], work: [] as number[], adds: 0, retries: 0 };
    const queue = new WorkQueue<string>({
      clock,
      metrics: {
        added: () => seen.adds++,
        depth: () => {},
        queueLatency: (s) => seen.latency.push(s),
        workDuration: (s) => seen.work.push(s),
        retried: () => seen.retries++,
      },
    });
    clock.advance(1000); // past the clock's zero: only the time since the add reads 0.25 s
    queue.add('k');
    clock.advance(250);
    await take(queue);
    clock.advance(1500);
    queue.done('k');
    queue.addRateLimited('k');
    expect(seen).toEqual({ latency: [0.25], work: [1.5], adds: 1, retries: 1 });
  });
});
