import { evaluateGate } from './gate.js';

const register = { modelName: 'fraud', gate: [{ metric: 'val_auc', operator: '>=' as const, threshold: 0.9 }] };

describe('evaluateGate', () => {
  test('passes when every threshold holds', () => {
    expect(evaluateGate(register, { val_auc: 0.95 }, undefined)).toEqual({
      passed: true,
      message: 'gate passed: val_auc 0.95 >= 0.9',
    });
  });

  test('refuses with the failing metric named', () => {
    expect(evaluateGate(register, { val_auc: 0.85 }, undefined)).toEqual({
      passed: false,
      message: 'gate failed: val_auc 0.85 is not >= 0.9',
    });
  });

  test('refuses when the metric was not reported, by the gate or by "must beat stable", and says which', () => {
    expect(evaluateGate(register, { val_loss: 0.1 }, undefined)).toEqual({
      passed: false,
      message: 'metric val_auc was not reported by the run',
    });
    const beat = { modelName: 'fraud', mustBeatStable: { metric: 'val_f1', higherIsBetter: true } };
    expect(evaluateGate(beat, { val_auc: 0.95 }, { val_f1: 0.5 })).toEqual({
      passed: false,
      message: 'metric val_f1 was not reported by the run',
    });
  });

  test('figures: integers as they are, others to four significant digits without trailing zeros', () => {
    const gate = (value: number, threshold: number) =>
      evaluateGate(
        { modelName: 'fraud', gate: [{ metric: 'loss', operator: '<', threshold }] },
        { loss: value },
        undefined,
      ).message;
    expect(gate(0.123456, 1)).toBe('gate passed: loss 0.1235 < 1');
    expect(gate(12.5, 20)).toBe('gate passed: loss 12.5 < 20');
    expect(gate(100, 1000)).toBe('gate passed: loss 100 < 1000');
    expect(gate(0.10004, 0.5)).toBe('gate passed: loss 0.1 < 0.5');
  });

  test('a stable version that recorded the metric is beaten, and the message says by what', () => {
    const beat = { modelName: 'fraud', mustBeatStable: { metric: 'val_auc', higherIsBetter: true } };
    expect(evaluateGate(beat, { val_auc: 0.97 }, { val_auc: 0.96 }).message).toBe(
      'gate passed: val_auc 0.97 beats stable 0.96',
    );
    // higherIsBetter left out: higher is better
    const unsaid = { modelName: 'fraud', mustBeatStable: { metric: 'val_auc' } };
    expect(evaluateGate(unsaid, { val_auc: 0.97 }, { val_auc: 0.96 }).passed).toBe(true);
    expect(evaluateGate(unsaid, { val_auc: 0.95 }, { val_auc: 0.96 }).passed).toBe(false);
  });

  test('must beat the stable version when asked', () => {
    const beat = { ...register, mustBeatStable: { metric: 'val_auc', higherIsBetter: true } };
    expect(evaluateGate(beat, { val_auc: 0.95 }, { val_auc: 0.96 })).toEqual({
      passed: false,
      message: "gate failed: val_auc 0.95 does not beat the stable version's 0.96",
    });
    expect(evaluateGate(beat, { val_auc: 0.97 }, { val_auc: 0.96 }).passed).toBe(true);
    expect(evaluateGate(beat, { val_auc: 0.95 }, undefined).message).toMatch(/no stable version of fraud to beat/);
    expect(evaluateGate(beat, { val_auc: 0.95 }, { val_loss: 0.1 }).message).toMatch(
      /the stable version recorded no val_auc to beat/,
    );
  });

  test('lower-is-better metrics', () => {
    const beat = { modelName: 'fraud', gate: [], mustBeatStable: { metric: 'val_loss', higherIsBetter: false } };
    expect(evaluateGate(beat, { val_loss: 0.04 }, { val_loss: 0.05 }).passed).toBe(true);
    expect(evaluateGate(beat, { val_loss: 0.06 }, { val_loss: 0.05 }).passed).toBe(false);
  });

  test.each([
    ['>=', 0.9, true],
    ['>', 0.9, false],
    ['<=', 0.9, true],
    ['<', 0.9, false],
    ['>', 0.89, true],
    ['<', 0.91, true],
    ['>=', 0.91, false],
    ['<=', 0.89, false],
  ] as const)('val_auc 0.9 %s %d → %s (ties pass only the inclusive operators)', (operator, threshold, passed) => {
    const gate = { modelName: 'fraud', gate: [{ metric: 'val_auc', operator, threshold }] };
    expect(evaluateGate(gate, { val_auc: 0.9 }, undefined).passed).toBe(passed);
  });

  test('a tie with the stable version does not beat it, either way round', () => {
    const higher = { modelName: 'fraud', mustBeatStable: { metric: 'val_auc', higherIsBetter: true } };
    const lower = { modelName: 'fraud', mustBeatStable: { metric: 'val_loss', higherIsBetter: false } };
    expect(evaluateGate(higher, { val_auc: 0.96 }, { val_auc: 0.96 }).passed).toBe(false);
    expect(evaluateGate(lower, { val_loss: 0.05 }, { val_loss: 0.05 }).passed).toBe(false);
  });

  test('every threshold must hold, the first failure is named; no gate at all passes', () => {
    const two = {
      modelName: 'fraud',
      gate: [
        { metric: 'val_auc', operator: '>=' as const, threshold: 0.9 },
        { metric: 'val_loss', operator: '<' as const, threshold: 0.1 },
      ],
    };
    expect(evaluateGate(two, { val_auc: 0.95, val_loss: 0.2 }, undefined).message).toBe(
      'gate failed: val_loss 0.2 is not < 0.1',
    );
    expect(evaluateGate(two, { val_auc: 0.95, val_loss: 0.05 }, undefined).message).toBe(
      'gate passed: val_auc 0.95 >= 0.9, val_loss 0.05 < 0.1',
    );
    expect(evaluateGate({ modelName: 'fraud' }, {}, undefined)).toEqual({
      passed: true,
      message: 'no gate configured',
    });
  });
});
