import { FakeClock, realClock, sleep, toMetaTime, toMicroTime } from './clock.js';

test('the API timestamps: metav1.Time to the second, metav1.MicroTime to six digits', () => {
  const date = new Date('2026-11-30T02:03:04.567Z');
  expect(toMetaTime(date)).toBe('2026-11-30T02:03:04Z');
  expect(toMicroTime(date)).toBe('2026-11-30T02:03:04.567000Z');
});

describe('FakeClock', () => {
  test('time moves only when advanced; now() is the epoch plus that', () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    expect(clock.monotonicMs()).toBe(0);
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
    clock.advance(1500);
    expect(clock.monotonicMs()).toBe(1500);
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:01.500Z');
    expect(new FakeClock().now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  test('timers fire in deadline order (then in the order set), each seeing its own time; cancelled ones never', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${clock.monotonicMs()}`);
    clock.setTimer(at('c'), 30);
    clock.setTimer(at('a'), 10);
    clock.setTimer(at('b'), 10);
    clock.setTimer(at('negative'), -5);
    clock.setTimer(at('late'), 100).cancel();
    clock.setTimer(at('after'), 51);
    expect(clock.pendingTimers()).toBe(5);
    clock.advance(50);
    expect(fired).toEqual(['negative@0', 'a@10', 'b@10', 'c@30']);
    expect(clock.monotonicMs()).toBe(50);
    expect(clock.pendingTimers()).toBe(1);
  });

  test('a timer set by a firing timer fires in the same advance when it falls due', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimer(() => {
      fired.push(clock.monotonicMs());
      clock.setTimer(() => fired.push(clock.monotonicMs()), 5);
    }, 10);
    clock.advance(20);
    expect(fired).toEqual([10, 15]);
  });

  test('nextTimer resolves when code under test sets its next timer', async () => {
    const clock = new FakeClock();
    let resolved = false;
    const next = clock.nextTimer().then(() => (resolved = true));
    await Promise.resolve();
    expect(resolved).toBe(false);
    clock.setTimer(() => undefined, 1);
    await next;
    expect(resolved).toBe(true);
  });
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

  test('after its timer fired, a later abort finds no listener left', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const removed: string[] = [];
    const signal = controller.signal;
    const remove = signal.removeEventListener.bind(signal);
    signal.removeEventListener = (type: string, listener: never) => (removed.push(type), remove(type, listener));
    const slept = sleep(clock, 10, signal);
    clock.advance(10);
    await slept;
    expect(removed).toEqual(['abort']);
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
