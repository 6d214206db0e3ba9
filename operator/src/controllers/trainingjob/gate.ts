// The promotion gate: do the run's metrics earn it a ModelVersion?
import type { MetricGate, RegisterSpec } from '../../api/index.js';

type GateResult = { passed: true; message: string } | { passed: false; message: string };

const compare: Record<MetricGate['operator'], (a: number, b: number) => boolean> = {
  '>=': (a, b) => a >= b,
  '>': (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '<': (a, b) => a < b,
};

/**
 * `stableMetrics` are the metrics recorded in the lineage of the model's stable version, or
 * undefined when the model has no stable version yet (then "must beat stable" holds trivially).
 */
export function evaluateGate(
  register: RegisterSpec,
  metrics: Record<string, number>,
  stableMetrics: Record<string, number> | undefined,
): GateResult {
  const passedChecks: string[] = [];
  for (const gate of register.gate ?? []) {
    const value = metrics[gate.metric];
    if (value === undefined) return { passed: false, message: `metric ${gate.metric} was not reported by the run` };
    const check = `${gate.metric} ${fmt(value)} ${gate.operator} ${fmt(gate.threshold)}`;
    if (!compare[gate.operator](value, gate.threshold))
      return {
        passed: false,
        message: `gate failed: ${gate.metric} ${fmt(value)} is not ${gate.operator} ${fmt(gate.threshold)}`,
      };
    passedChecks.push(check);
  }
  const beat = register.mustBeatStable;
  if (beat) {
    const value = metrics[beat.metric];
    const stable = stableMetrics?.[beat.metric];
    if (value === undefined) return { passed: false, message: `metric ${beat.metric} was not reported by the run` };
    if (stable !== undefined) {
      const better = beat.higherIsBetter === false ? value < stable : value > stable;
      if (!better)
        return {
          passed: false,
          message: `gate failed: ${beat.metric} ${fmt(value)} does not beat the stable version's ${fmt(stable)}`,
        };
      passedChecks.push(`${beat.metric} ${fmt(value)} beats stable ${fmt(stable)}`);
    } else {
      passedChecks.push(
        stableMetrics
          ? `the stable version recorded no ${beat.metric} to beat`
          : `no stable version of ${register.modelName} to beat`,
      );
    }
  }
  return {
    passed: true,
    message: passedChecks.length ? `gate passed: ${passedChecks.join(', ')}` : 'no gate configured',
  };
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toPrecision(4).replace(/\.?0+$/, '');
}
