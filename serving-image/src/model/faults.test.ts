import { jest } from '@jest/globals';
import { FaultInjector, type FaultSettings } from './faults.js';
import type { Tensor } from './tensor.js';

const settings = (overrides: Partial<FaultSettings>): FaultSettings => ({
  errorRate: 0,
  latencyMillis: 0,
  scoreShift: 0,
  ...overrides,
});
const probabilities = (rows: number[][]): Tensor => ({
  name: 'p',
  datatype: 'FP32',
  shape: [rows.length, rows[0]!.length],
  data: Float32Array.from(rows.flat()),
});

test('the error rate fails the requests whose draw falls under it, with an internal "injected fault"', async () => {
  const draws = [0.1, 0.9, 0.29, 0.3];
  let next = 0;
  const faults = new FaultInjector(settings({ errorRate: 0.3 }), () => draws[next++]!);
  const outcomes = await Promise.allSettled(draws.map(() => faults.beforeInference()));
  expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
  expect((outcomes[0] as PromiseRejectedResult).reason).toMatchObject({ kind: 'internal', message: 'injected fault' });
});

test('no draw is made when the error rate is 0', async () => {
  const faults = new FaultInjector(settings({}), () => {
    throw new Error('drew');
  });
  await expect(faults.beforeInference()).resolves.toBeUndefined();
});

test('the latency holds the request back before it goes on', async () => {
  jest.useFakeTimers();
  try {
    let done = false;
    const waiting = new FaultInjector(settings({ latencyMillis: 50 })).beforeInference().then(() => (done = true));
    await jest.advanceTimersByTimeAsync(49);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
  } finally {
    jest.useRealTimers();
  }
});

test.each([
  [0.25, [0.75, 0.25], [0.5, 0.5]],
  [-0.25, [0.75, 0.25], [1, 0]],
  [0.9, [0.5, 0.5], [0, 1]],
  [0.25, [0.5, 0.4], [0.35, 0.65]], // scores that do not sum to 1: still 1 - p
])('a score shift of %p moves the positive class %p → %p, the other class gets 1 - p', (shift, row, expected) => {
  const tensor = probabilities([row, row]);
  new FaultInjector(settings({ scoreShift: shift })).shiftScores(tensor);
  Array.from(tensor.data as Float32Array).forEach((value, i) => expect(value).toBeCloseTo(expected[i % 2]!, 6));
});

test('with more classes the others keep their proportions', () => {
  const tensor = probabilities([[0.4, 0.2, 0.4]]);
  new FaultInjector(settings({ scoreShift: 0.3 })).shiftScores(tensor);
  const [a, b, c] = Array.from(tensor.data as Float32Array);
  expect(c).toBeCloseTo(0.7, 6);
  expect(a).toBeCloseTo(0.2, 6);
  expect(b).toBeCloseTo(0.1, 6);
});

test('without added latency the request is not held back by a timer', async () => {
  jest.useFakeTimers();
  try {
    // Resolves without the fake clock moving: no timer, not even one of 0 ms, stands in its way.
    await expect(new FaultInjector(settings({})).beforeInference()).resolves.toBeUndefined();
  } finally {
    jest.useRealTimers();
  }
});

// Scores as the model gave them, even ones that do not sum to 1 (a shift would make the other class 1 - p).
test.each([
  [0, [2, 2]],
  [0.5, [4]],
  [0.5, [1, 2, 2]],
])('a shift of %p on a prediction of shape %j leaves it as it is', (shift, shape) => {
  const scores: Tensor = { name: 'p', datatype: 'FP32', shape, data: Float32Array.from([0.5, 0.4, 0.2, 0.9]) };
  new FaultInjector(settings({ scoreShift: shift })).shiftScores(scores);
  expect(scores.data).toEqual(Float32Array.from([0.5, 0.4, 0.2, 0.9]));
});

test('when the positive class held everything, the others share what the shift leaves equally', () => {
  const tensor = probabilities([[0, 0, 1]]);
  new FaultInjector(settings({ scoreShift: -0.4 })).shiftScores(tensor);
  const [a, b, c] = Array.from(tensor.data as Float32Array);
  expect(c).toBeCloseTo(0.6, 6);
  expect(a).toBeCloseTo(0.2, 6);
  expect(b).toBeCloseTo(0.2, 6);
});
