import { ItemBackoff, exponentialDelayMs, withJitter } from './backoff.js';

test('exponential: base × 2^failures, capped at max (also where 2^failures is Infinity)', () => {
  const policy = { baseMs: 5, maxMs: 1000 };
  expect([0, 1, 2, 3, 7, 8, 2000].map((n) => exponentialDelayMs(policy, n))).toEqual([5, 10, 20, 40, 640, 1000, 1000]);
});

test('jitter: uniform over [delay/2, delay]', () => {
  expect(withJitter(1000, () => 0)).toBe(500);
  expect(withJitter(1000, () => 0.5)).toBe(750);
  expect(withJitter(1000, () => 1)).toBe(1000);
  for (let i = 0; i < 100; i++) {
    const d = withJitter(1000);
    expect(d).toBeGreaterThanOrEqual(500);
    expect(d).toBeLessThanOrEqual(1000);
  }
});

test('per key: each failure doubles its delay; forget starts it over; keys are independent', () => {
  const backoff = new ItemBackoff<string>({ baseMs: 10, maxMs: 100 });
  expect([backoff.next('a'), backoff.next('a'), backoff.next('a')]).toEqual([10, 20, 40]);
  expect(backoff.next('b')).toBe(10);
  expect([backoff.retries('a'), backoff.retries('b'), backoff.retries('c')]).toEqual([3, 1, 0]);
  expect([backoff.next('a'), backoff.next('a')]).toEqual([80, 100]);
  backoff.forget('a');
  expect(backoff.retries('a')).toBe(0);
  expect(backoff.next('a')).toBe(10);
  expect(backoff.next('b')).toBe(20);
});

test("the default policy is client-go's: 5 ms doubling to 1000 s", () => {
  const backoff = new ItemBackoff<string>();
  expect(backoff.next('k')).toBe(5);
  for (let i = 0; i < 40; i++) backoff.next('k');
  expect(backoff.next('k')).toBe(1_000_000);
});
