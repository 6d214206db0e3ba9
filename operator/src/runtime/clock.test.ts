import { getEventListeners } from 'node:events';
import { realClock, sleep, toMetaTime, toMicroTime, withTimeout } from './clock.js';
import { FakeClock } from './testing/fake-clock.js';

test('the API timestamps: metav1.Time to the second, metav1.MicroTime to six digits', () => {
  const date = new Date('2026-11-30T02:03:04.567Z');
  expect(toMetaTime(date)).toBe('2026-11-30T02:03:04Z');
  expect(toMicroTime(date)).toBe('2026-11-30T02:03:04.567000Z');
});

describe('sleep', () => {
  test('resolves when its time has passed on the clock', async () => {
    const clock = new FakeClock();
    let done = false;
    const slept = sleep(clock, 100).then(() => (done = true));
    clock.advance(99);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await slept;
    expect(clock.pendingTimers()).toBe(0);
  });

  test('an abort resolves it at once and cancels its timer; an aborted signal sets none', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const slept = sleep(clock, 100, controller.signal);
    expect(clock.pendingTimers()).toBe(1);
    controller.abort();
    await slept;
    expect(clock.pendingTimers()).toBe(0);
    await sleep(clock, 100, controller.signal);
    expect(clock.pendingTimers()).toBe(0);
  });

  test('leaves no listener on the signal, whether its timer fired or the signal aborted', async () => {
    const clock = new FakeClock();
    const fired = new AbortController();
    const slept = sleep(clock, 10, fired.signal);
    expect(getEventListeners(fired.signal, 'abort')).toHaveLength(1);
    clock.advance(10);
    await slept;
    expect(getEventListeners(fired.signal, 'abort')).toHaveLength(0);
    const aborted = new AbortController();
    const cut = sleep(clock, 10, aborted.signal);
    aborted.abort();
    await cut;
    expect(getEventListeners(aborted.signal, 'abort')).toHaveLength(0);
  });
});

describe('withTimeout', () => {
  const settled = async <T>(promise: Promise<T>) => {
    let state: { value?: T; error?: string } | 'pending' = 'pending';
    promise.then(
      (value) => (state = { value }),
      (err: Error) => (state = { error: err.message }),
    );
    for (let i = 0; i < 5; i++) await Promise.resolve();
    return state;
  };

  test('the promise first: its value, and the timer is gone', async () => {
    const clock = new FakeClock();
    const raced = withTimeout(clock, 1000, Promise.resolve('synced'), 'timeout');
    expect(await settled(raced)).toEqual({ value: 'synced' });
    expect(clock.pendingTimers()).toBe(0);
  });

  test('the promise failing first: its error, and the timer is gone', async () => {
    const clock = new FakeClock();
    const raced = withTimeout(clock, 1000, Promise.reject(new Error('refused')), 'timeout');
    expect(await settled(raced)).toEqual({ error: 'refused' });
    expect(clock.pendingTimers()).toBe(0);
  });

  test('the time first: the timeout value once `ms` have passed, not before', async () => {
    const clock = new FakeClock();
    const raced = withTimeout(clock, 1000, new Promise<string>(() => {}), 'timeout');
    clock.advance(999);
    expect(await settled(raced)).toBe('pending');
    clock.advance(1);
    expect(await settled(raced)).toEqual({ value: 'timeout' });
    expect(clock.pendingTimers()).toBe(0);
  });
});

test('the real clock: timers fire on the event loop, cancelled ones never; a negative delay is no delay', async () => {
  const fired: string[] = [];
  const cancelled = realClock.setTimer(() => fired.push('cancelled'), 0);
  cancelled.cancel();
  await new Promise<void>((resolve) => realClock.setTimer(resolve, -10));
  await new Promise<void>((resolve) => realClock.setTimer(resolve, 1));
  expect(fired).toEqual([]);
  expect(realClock.now().getTime()).toBeLessThanOrEqual(Date.now());
  const t0 = realClock.monotonicMs();
  expect(realClock.monotonicMs()).toBeGreaterThanOrEqual(t0);
});
