import { toMetaTime } from './clock.js';
import { findCondition, isConditionTrue, setCondition, type Condition } from './conditions.js';

const t0 = new Date('2026-01-01T00:00:00.250Z');
const t1 = new Date('2026-01-01T00:05:00.000Z');

describe('setCondition', () => {
  test('adds a new condition with observedGeneration and a second-precision transition time', () => {
    const out = setCondition([], { type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting' }, 3, t0);
    expect(out).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'Pending',
        message: 'waiting',
        observedGeneration: 3,
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ]);
  });

  test('keeps lastTransitionTime when the status does not flip, even if reason/message/generation change', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'Pending', message: 'a' }, 1, t0);
    const second = setCondition(first, { type: 'Ready', status: 'False', reason: 'Scheduling', message: 'b' }, 2, t1);
    expect(second[0]).toMatchObject({
      reason: 'Scheduling',
      message: 'b',
      observedGeneration: 2,
      lastTransitionTime: toMetaTime(t0),
    });
  });

  test('moves lastTransitionTime when the status flips', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'Pending', message: '' }, 1, t0);
    const second = setCondition(first, { type: 'Ready', status: 'True', reason: 'Running', message: '' }, 1, t1);
    expect(second[0]?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
  });

  test('re-asserting the same condition yields an equal array (so the status write is skipped)', () => {
    const input = { type: 'Ready', status: 'True', reason: 'Running', message: 'ok' } as const;
    const first = setCondition([], input, 4, t0);
    expect(setCondition(first, input, 4, t1)).toEqual(first);
  });

  test('keeps other conditions and their order, and does not mutate its input', () => {
    const before: Condition[] = [
      { type: 'A', status: 'True', reason: 'r', message: '', lastTransitionTime: 'x' },
      { type: 'B', status: 'True', reason: 'r', message: '', lastTransitionTime: 'y' },
    ];
    const frozen = structuredClone(before);
    const out = setCondition(before, { type: 'A', status: 'False', reason: 'r2', message: '' }, undefined, t1);
    expect(out.map((c) => c.type)).toEqual(['A', 'B']);
    expect(out[0]).not.toHaveProperty('observedGeneration');
    expect(out[1]).toBe(before[1]);
    expect(before).toEqual(frozen);
  });
});

test('setCondition replaces the condition of its type, in place, among others', () => {
  const ready = setCondition([], { type: 'Ready', status: 'True', reason: 'Up', message: '' }, 1, t0);
  const both = setCondition(ready, { type: 'Degraded', status: 'False', reason: 'Fine', message: '' }, 1, t0);
  const next = setCondition(both, { type: 'Degraded', status: 'True', reason: 'Broken', message: 'x' }, 2, t1);
  expect(next.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime])).toEqual([
    ['Ready', 'True', 'Up', toMetaTime(t0)],
    ['Degraded', 'True', 'Broken', toMetaTime(t1)],
  ]);
  expect(next[0]).toBe(both[0]);
});

test('findCondition and isConditionTrue read a condition by type', () => {
  const conditions = [
    { type: 'Ready', status: 'False' as const, reason: 'Pending', message: '' },
    { type: 'Degraded', status: 'True' as const, reason: 'Broken', message: '' },
  ];
  expect(findCondition(conditions, 'Degraded')?.reason).toBe('Broken');
  expect(findCondition(conditions, 'Promoted')).toBeUndefined();
  expect(findCondition(undefined, 'Ready')).toBeUndefined();
  expect([isConditionTrue(conditions, 'Degraded'), isConditionTrue(conditions, 'Ready')]).toEqual([true, false]);
  expect([isConditionTrue(conditions, 'Promoted'), isConditionTrue(undefined, 'Ready')]).toEqual([false, false]);
});
