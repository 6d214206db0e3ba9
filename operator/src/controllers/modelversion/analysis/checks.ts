// The canary analysis as a chain of named pure checks (the shape of cert-manager's policy chain): each
// looks at the measurements of one window and says Pass, Fail, Inconclusive or Skipped with the value it
// saw and the bound it held it against. Every check runs, so the status shows every value; the verdict is
// Fail if any failed, else Inconclusive if any was, else Pass.
import { ROLLOUT_DEFAULTS, type AnalysisSpec, type CheckResult, type Verdict } from '../../../api/index.js';
import type { HistogramCounts } from '../../../prometheus/index.js';

/** One version's traffic over the window. */
export interface VersionMeasurements {
  requests: number;
  errors: number;
  /** p99 latency in seconds; undefined when it served nothing. */
  p99Seconds?: number;
  /** Its prediction-score histogram; undefined when it exports none (no reference loaded). */
  scores?: HistogramCounts;
}

export interface Measurements {
  windowSeconds: number;
  canary: VersionMeasurements;
  stable?: VersionMeasurements;
  /** Each user query's value, or why there is none (no data, several series). */
  queries: Record<string, { value?: number; problem?: string }>;
}

/** The distances of contract C5 (operator/src/statistics): counts per bin in, a number out; injectable for tests. */
export interface Distances {
  psi(reference: number[], live: number[]): number;
  jensenShannon(reference: number[], live: number[]): number;
}

/** The analysis spec with every default filled in. */
export interface ResolvedAnalysis {
  intervalSeconds: number;
  windowSeconds: number;
  failureLimit: number;
  minSamples: number;
  metricsUnavailableRollbackSeconds: number;
  prometheusUrl?: string;
  errorRate: { max: number; maxRatioToStable: number; noiseFloor: number };
  latencyP99: { maxMs: number; maxRatioToStable: number; noiseFloorMs: number };
  predictionShift: { method: 'PSI' | 'JS'; max: number; minSamples: number; enabled: boolean };
  queries: { name: string; query: string; max?: number; min?: number }[];
}

export function resolveAnalysis(spec: AnalysisSpec | undefined): ResolvedAnalysis {
  const d = ROLLOUT_DEFAULTS.analysis;
  const s = spec ?? {};
  return {
    intervalSeconds: s.intervalSeconds ?? d.intervalSeconds,
    windowSeconds: s.windowSeconds ?? d.windowSeconds,
    failureLimit: s.failureLimit ?? d.failureLimit,
    minSamples: s.minSamples ?? d.minSamples,
    metricsUnavailableRollbackSeconds: s.metricsUnavailableRollbackSeconds ?? d.metricsUnavailableRollbackSeconds,
    ...(s.prometheusUrl ? { prometheusUrl: s.prometheusUrl } : {}),
    errorRate: { ...d.errorRate, ...s.errorRate },
    latencyP99: { ...d.latencyP99, ...s.latencyP99 },
    predictionShift: { ...d.predictionShift, ...s.predictionShift },
    queries: s.queries ?? [],
  };
}

/** How long a breach can go unseen: failureLimit analyses an interval apart, each looking back a window. */
export const worstCaseDetectionSeconds = (a: ResolvedAnalysis) => a.intervalSeconds * a.failureLimit + a.windowSeconds;

interface CheckInput {
  m: Measurements;
  spec: ResolvedAnalysis;
  distances: Distances;
  /** Whether the canary served minSamples requests in the window: no check passes or fails before. */
  enough: boolean;
}

type Check = (input: CheckInput) => CheckResult | undefined;

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(3))));
const pct = (share: number) => `${fmt(share * 100)} %`;
const ms = (seconds: number) => `${fmt(seconds * 1000)} ms`;

const result = (
  name: string,
  verdict: Verdict,
  message: string,
  values: { value?: number; stableValue?: number; threshold?: number } = {},
): CheckResult => ({ name, verdict, ...values, message });

/** An absolute bound: value > threshold fails. */
function upperBound(
  name: string,
  input: CheckInput,
  value: number | undefined,
  threshold: number,
  show: (n: number) => string,
): CheckResult {
  if (value === undefined) return result(name, 'Inconclusive', 'no data in the window', { threshold });
  const said = `${show(value)} (threshold ${show(threshold)})`;
  if (!input.enough) return result(name, 'Inconclusive', `${said}; too few requests to judge`, { value, threshold });
  return value > threshold
    ? result(name, 'Fail', `${show(value)} > ${show(threshold)}`, { value, threshold })
    : result(name, 'Pass', `${show(value)} <= ${show(threshold)}`, { value, threshold });
}

/** A bound relative to the stable over the same window, with a noise floor under the stable's value. */
function relativeBound(
  name: string,
  input: CheckInput,
  value: number | undefined,
  stable: VersionMeasurements | undefined,
  stableValue: number | undefined,
  bound: { ratio: number; floor: number },
  show: (n: number) => string,
): CheckResult {
  if (!stable || stable.requests < input.spec.minSamples || stableValue === undefined)
    return result(name, 'Skipped', 'the stable served too little in the window to compare with');
  const threshold = bound.ratio * Math.max(stableValue, bound.floor);
  const values = { ...(value !== undefined ? { value } : {}), stableValue, threshold };
  if (value === undefined) return result(name, 'Inconclusive', 'no data in the window', values);
  const said = `${show(value)} vs stable ${show(stableValue)} (threshold ${fmt(bound.ratio)} × ${show(Math.max(stableValue, bound.floor))} = ${show(threshold)})`;
  if (!input.enough) return result(name, 'Inconclusive', `${said}; too few requests to judge`, values);
  return result(name, value > threshold ? 'Fail' : 'Pass', said, values);
}

const errorShare = (v: VersionMeasurements | undefined) =>
  v && v.requests > 0 ? Math.min(1, v.errors / v.requests) : undefined;

const samples: Check = ({ m, spec, enough }) => {
  const value = m.canary.requests;
  const message = `${fmt(value)} requests in ${m.windowSeconds}s (minimum ${spec.minSamples})`;
  return result('samples', enough ? 'Pass' : 'Inconclusive', message, { value, threshold: spec.minSamples });
};

const errorRate: Check = (input) =>
  upperBound('error-rate', input, errorShare(input.m.canary), input.spec.errorRate.max, pct);

const errorRateVsStable: Check = (input) =>
  relativeBound(
    'error-rate-vs-stable',
    input,
    errorShare(input.m.canary),
    input.m.stable,
    errorShare(input.m.stable),
    { ratio: input.spec.errorRate.maxRatioToStable, floor: input.spec.errorRate.noiseFloor },
    pct,
  );

const latencyP99: Check = (input) =>
  upperBound('latency-p99', input, input.m.canary.p99Seconds, input.spec.latencyP99.maxMs / 1000, ms);

const latencyP99VsStable: Check = (input) =>
  relativeBound(
    'latency-p99-vs-stable',
    input,
    input.m.canary.p99Seconds,
    input.m.stable,
    input.m.stable?.p99Seconds,
    { ratio: input.spec.latencyP99.maxRatioToStable, floor: input.spec.latencyP99.noiseFloorMs / 1000 },
    ms,
  );

/** The ML check: how far the canary's prediction-score distribution is from the stable's. */
const predictionShift: Check = ({ m, spec, distances, enough }) => {
  const shift = spec.predictionShift;
  const name = 'prediction-shift';
  if (!shift.enabled) return undefined;
  const canary = m.canary.scores;
  const stable = m.stable?.scores;
  if (!canary || !stable)
    return result(name, 'Skipped', 'no prediction-score histogram (a version without a reference exports none)');
  if (!sameBins(canary, stable))
    return result(name, 'Skipped', 'the versions score into different bins (references with different edges)');
  const threshold = shift.max;
  const counted = `${fmt(canary.total)} canary and ${fmt(stable.total)} stable scores in the window (minimum ${shift.minSamples} each)`;
  // Like the other comparisons with the stable: nothing to compare with (at 100 % it serves nothing) is not a verdict.
  if (stable.total < shift.minSamples || stable.total === 0) return result(name, 'Skipped', counted, { threshold });
  if (canary.total < shift.minSamples || canary.total === 0)
    return result(name, 'Inconclusive', counted, { threshold });
  const [stableCounts, canaryCounts] = smoothed(stable.counts, canary.counts);
  const value =
    shift.method === 'PSI'
      ? distances.psi(stableCounts, canaryCounts)
      : distances.jensenShannon(stableCounts, canaryCounts);
  const noise = samplingNoise(shift.method, stable.counts, canary.counts);
  const bound = threshold + noise;
  const said = `${shift.method} ${fmt(value)} between canary and stable scores (threshold ${fmt(threshold)} + ${fmt(noise)} sampling noise at these counts)`;
  if (!enough) return result(name, 'Inconclusive', `${said}; too few requests to judge`, { value, threshold: bound });
  return result(name, value > bound ? 'Fail' : 'Pass', said, { value, threshold: bound });
};

/**
 * Half a score added to each bin either version scored into (Jeffreys' prior). A bin a small sample left
 * empty is chance, but PSI's epsilon reads it as ln(share / 1e-4) of evidence, beyond what the noise
 * allowance below (second order) foresees: 76 canary and 300 stable scores of one distribution failed 1.1 %
 * of analyses unsmoothed (good canaries rolled back at their first step), none of 20 000 smoothed.
 */
function smoothed(a: readonly number[], b: readonly number[]): [number[], number[]] {
  const scored = a.map((count, i) => count + b[i]! > 0);
  const add = (counts: readonly number[]) => counts.map((count, i) => (scored[i] ? count + 0.5 : count));
  return [add(a), add(b)];
}

/**
 * How far apart two samples of one distribution may come out by chance (99.9th percentile), in the
 * check's unit: the noise floor of the distance, as the latency and error checks have one. Two samples
 * of n₁ and n₂ scores over k non-empty bins give n·PSI ≈ X² ~ χ²(k − 1) with n = n₁n₂/(n₁ + n₂), and
 * JS divergence ≈ X²/(8n) nats (both to second order). With 100 canary scores in 20 bins the noise alone
 * is ≈ 0.25 PSI: without this allowance a good canary at a small weight was rolled back by chance.
 */
function samplingNoise(method: 'PSI' | 'JS', a: readonly number[], b: readonly number[]): number {
  const [na, nb] = [sum(a), sum(b)];
  const bins = a.filter((count, i) => count + b[i]! > 0).length;
  if (bins < 2 || !na || !nb) return 0;
  const x2 = chiSquareQuantile(bins - 1, Z_999) / ((na * nb) / (na + nb));
  return method === 'PSI' ? x2 : Math.sqrt(x2 / 8 / Math.LN2);
}

const Z_999 = 3.0902;
const sum = (xs: readonly number[]) => xs.reduce((t, x) => t + x, 0);
/** The chi-square quantile at normal quantile z (Wilson–Hilferty: within a few % for dof >= 2). */
const chiSquareQuantile = (dof: number, z: number) => dof * (1 - 2 / (9 * dof) + z * Math.sqrt(2 / (9 * dof))) ** 3;

const sameBins = (a: HistogramCounts, b: HistogramCounts) =>
  a.upperBounds.length === b.upperBounds.length && a.upperBounds.every((u, i) => u === b.upperBounds[i]);

/** The user's PromQL checks, each named `query:<name>`. */
function queryChecks(input: CheckInput): CheckResult[] {
  return input.spec.queries.map((q) => {
    const name = `query:${q.name}`;
    const { value, problem } = input.m.queries[q.name] ?? { problem: 'the query was not run' };
    if (value === undefined || Number.isNaN(value))
      return result(name, 'Inconclusive', problem ?? 'the query returned no data', { threshold: q.max ?? q.min! });
    const tooLow = q.min !== undefined && value < q.min;
    const tooHigh = q.max !== undefined && value > q.max;
    const threshold = tooLow ? q.min! : (q.max ?? q.min!);
    const bounds = [q.min !== undefined ? `>= ${fmt(q.min)}` : '', q.max !== undefined ? `<= ${fmt(q.max)}` : '']
      .filter(Boolean)
      .join(' and ');
    const said = `${fmt(value)} (must be ${bounds})`;
    if (!input.enough) return result(name, 'Inconclusive', `${said}; too few requests to judge`, { value, threshold });
    return result(name, tooHigh || tooLow ? 'Fail' : 'Pass', said, { value, threshold });
  });
}

/** The chain, in the order the status lists them. */
const CHAIN: Check[] = [samples, errorRate, errorRateVsStable, latencyP99, latencyP99VsStable, predictionShift];

export interface AnalysisResult {
  verdict: Exclude<Verdict, 'Skipped' | 'Error'>;
  checks: CheckResult[];
  /** What decided the verdict, in words (the failed checks; else what is missing; else a summary). */
  message: string;
}

export function analyse(m: Measurements, spec: ResolvedAnalysis, distances: Distances): AnalysisResult {
  const input: CheckInput = { m, spec, distances, enough: m.canary.requests >= spec.minSamples };
  const checks = [
    ...CHAIN.map((check) => check(input)).filter((c): c is CheckResult => c !== undefined),
    ...queryChecks(input),
  ];
  const failed = checks.filter((c) => c.verdict === 'Fail');
  if (failed.length) return { verdict: 'Fail', checks, message: failed.map(describe).join('; ') };
  const inconclusive = checks.filter((c) => c.verdict === 'Inconclusive');
  if (inconclusive.length) return { verdict: 'Inconclusive', checks, message: inconclusive.map(describe).join('; ') };
  const passed = checks.filter((c) => c.verdict === 'Pass').length;
  return { verdict: 'Pass', checks, message: `${passed} checks passed over ${m.windowSeconds}s` };
}

const describe = (c: CheckResult) => `${c.name}: ${c.message}`;
