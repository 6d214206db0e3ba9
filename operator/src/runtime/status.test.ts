import { computeStatus, statusChanged } from './status.js';
import type { KubernetesObject } from './types.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T01:00:00Z');

describe('computeStatus / statusChanged', () => {
  const obj = (status?: Record<string, unknown>, generation = 2): KubernetesObject => ({
    metadata: { name: 'x', generation },
    ...(status ? { status } : {}),
  });

  test('a first status is a change; asserting it again later is not', () => {
    const desired = {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Running', message: '' }],
    };
    const first = computeStatus(obj(), desired, t0);
    expect(statusChanged(obj(), first)).toBe(true);
    expect(first).toEqual({
      phase: 'Running',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Running',
          message: '',
          observedGeneration: 2,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    });
    const written = obj(first);
    expect(statusChanged(written, computeStatus(written, desired, t1))).toBe(false);
  });

  test('a new generation is a change (observedGeneration moves) but keeps lastTransitionTime', () => {
    const desired = { conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Running', message: '' }] };
    const written = obj(computeStatus(obj(), desired, t0), 2);
    const bumped = { ...written, metadata: { ...written.metadata, generation: 3 } };
    const next = computeStatus(bumped, desired, t1);
    expect(statusChanged(bumped, next)).toBe(true);
    expect(next.conditions).toEqual([
      expect.objectContaining({ observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z' }),
    ]);
  });

  test('keeps fields it is not told about, removes fields set to undefined', () => {
    const current = obj({ phase: 'Running', startTime: 'a', message: 'm' });
    expect(computeStatus(current, { message: undefined }, t0)).toEqual({ phase: 'Running', startTime: 'a' });
    expect(statusChanged(current, computeStatus(current, { phase: 'Running' }, t0))).toBe(false);
  });

  test('does not modify the (frozen, cached) current object', () => {
    const current = Object.freeze(obj(Object.freeze({ phase: 'A', conditions: Object.freeze([]) })));
    expect(() =>
      computeStatus(
        current,
        { phase: 'B', conditions: [{ type: 'Ready', status: 'False', reason: 'r', message: '' }] },
        t0,
      ),
    ).not.toThrow();
  });
});
