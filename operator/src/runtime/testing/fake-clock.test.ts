import { FakeClock } from './fake-clock.js';

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
