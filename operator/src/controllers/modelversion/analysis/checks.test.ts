import {
  analyse,
  resolveAnalysis,
  worstCaseDetectionSeconds,
  type Measurements,
  type VersionMeasurements,
} from './checks.js';
import { jensenShannon, psi } from '../../../statistics/index.js';
import { errorsQuery, p99Query, requestsQuery, scoresQuery, userQuery, versionsSelector } from './queries.js';

const bins = (counts: number[]) => ({
  upperBounds: counts.map((_c, i) => (i === counts.length - 1 ? Infinity : (i + 1) / counts.length)),
  counts,
  total: counts.reduce((a, b) => a + b, 0),
});
const healthy: VersionMeasurements = { requests: 600, errors: 0, p99Seconds: 0.004, scores: bins([300, 200, 100]) };
const measurements = (
  canary: Partial<VersionMeasurements>,
  stable: Partial<VersionMeasurements> | null = {},
): Measurements => ({
  windowSeconds: 60,
  canary: { ...healthy, ...canary },
  ...(stable ? { stable: { ...healthy, requests: 6000, ...stable } } : {}),
  queries: {},
});
/** Distances that say what they were asked, so the tests see the canary/stable order. */
const calls: string[] = [];
const distances = {
  psi: (reference: number[], live: number[]) => (calls.push(`psi(${reference}|${live})`), live[0]! < 200 ? 0.4 : 0.01),
  jensenShannon: (reference: number[], live: number[]) => (calls.push(`js(${reference}|${live})`), 0.05),
};
const spec = resolveAnalysis({});
const verdictOf = (m: Measurements, s = spec) => analyse(m, s, distances);
const check = (m: Measurements, name: string, s = spec) => verdictOf(m, s).checks.find((c) => c.name === name);

test('defaults: 30 s interval, 60 s window, 2 failures → 120 s worst-case detection', () => {
  expect(spec).toMatchObject({ intervalSeconds: 30, windowSeconds: 60, failureLimit: 2, minSamples: 50 });
  expect(worstCaseDetectionSeconds(spec)).toBe(120);
  expect(worstCaseDetectionSeconds(resolveAnalysis({ intervalSeconds: 5, failureLimit: 1, windowSeconds: 10 }))).toBe(
    15,
  );
  expect(resolveAnalysis({ errorRate: { max: 0.05 } }).errorRate).toEqual({
    max: 0.05,
    maxRatioToStable: 2,
    noiseFloor: 0.005,
  });
});

test('a healthy canary passes every check, each with its value and threshold', () => {
  const result = verdictOf(measurements({}));
  expect(result.verdict).toBe('Pass');
  expect(result.checks.map((c) => [c.name, c.verdict])).toEqual([
    ['samples', 'Pass'],
    ['error-rate', 'Pass'],
    ['error-rate-vs-stable', 'Pass'],
    ['latency-p99', 'Pass'],
    ['latency-p99-vs-stable', 'Pass'],
    ['prediction-shift', 'Pass'],
  ]);
  expect(result.checks[3]).toEqual({
    name: 'latency-p99',
    verdict: 'Pass',
    value: 0.004,
    threshold: 0.5,
    message: '4 ms <= 500 ms',
  });
  expect(result.message).toBe('6 checks passed over 60s');
});

test.each([
  // case, canary, stable, check, verdict, message
  ['idle canary', { requests: 0, errors: 0 }, {}, 'samples', 'Inconclusive', /0 requests in 60s \(minimum 50\)/],
  [
    'a few requests, all errors: still not judged',
    { requests: 10, errors: 10 },
    {},
    'error-rate',
    'Inconclusive',
    /100 % \(threshold 1 %\); too few requests/,
  ],
  ['errors above the bound', { errors: 30 }, {}, 'error-rate', 'Fail', /^5 % > 1 %$/],
  ['errors under the bound', { errors: 3 }, {}, 'error-rate', 'Pass', /^0.5 % <= 1 %$/],
  [
    'errors over 2 × the stable’s',
    { errors: 9 },
    { errors: 10 },
    'error-rate-vs-stable',
    'Fail',
    /1.5 % vs stable 0.167 % \(threshold 2 × 0.5 % = 1 %\)/,
  ],
  ['errors at 2 × a noisy stable', { errors: 5 }, { errors: 60 }, 'error-rate-vs-stable', 'Pass', /vs stable 1 %/],
  ['stable idle at 100 %', {}, { requests: 0 }, 'error-rate-vs-stable', 'Skipped', /stable served too little/],
  ['no stable at all', {}, null, 'latency-p99-vs-stable', 'Skipped', /stable served too little/],
  ['slow canary', { p99Seconds: 0.75 }, {}, 'latency-p99', 'Fail', /^750 ms > 500 ms$/],
  [
    'slower than 2 × the stable',
    { p99Seconds: 0.18 },
    { p99Seconds: 0.08 },
    'latency-p99-vs-stable',
    'Fail',
    /180 ms vs stable 80 ms \(threshold 2 × 80 ms = 160 ms\)/,
  ],
  [
    'slower than a fast stable, within the noise floor',
    { p99Seconds: 0.015 },
    { p99Seconds: 0.002 },
    'latency-p99-vs-stable',
    'Pass',
    /15 ms vs stable 2 ms \(threshold 2 × 50 ms = 100 ms\)/,
  ],
  ['no latency data', { p99Seconds: undefined }, {}, 'latency-p99', 'Inconclusive', /no data/],
  [
    'predictions shifted',
    { scores: bins([100, 200, 300]) },
    {},
    'prediction-shift',
    'Fail',
    /PSI 0.4 between canary and stable scores \(threshold 0.25 \+ 0.04\d+ sampling noise at these counts\)/,
  ],
  [
    'too few scores',
    { scores: bins([10, 10, 10]) },
    {},
    'prediction-shift',
    'Inconclusive',
    /30 canary and 600 stable scores .* \(minimum 200 each\)/,
  ],
  [
    'the stable served too few scores (at 100 % it serves none)',
    {},
    { scores: bins([10, 5, 0]) },
    'prediction-shift',
    'Skipped',
    /600 canary and 15 stable scores/,
  ],
  [
    'no reference, no scores',
    { scores: undefined },
    {},
    'prediction-shift',
    'Skipped',
    /no prediction-score histogram/,
  ],
  ['different bins', { scores: bins([300, 300]) }, {}, 'prediction-shift', 'Skipped', /different bins/],
] as const)('%s', (_case, canary, stable, name, verdict, message) => {
  const c = check(measurements(canary, stable), name);
  expect(c?.verdict).toBe(verdict);
  expect(c?.message).toMatch(message);
});

test('the verdict message: every inconclusive check in order; a pass counts only the checks that passed', () => {
  const unsure = verdictOf(measurements({ requests: 10, p99Seconds: undefined }));
  expect(unsure.message).toBe(
    'samples: 10 requests in 60s (minimum 50); error-rate: 0 % (threshold 1 %); too few requests to judge; ' +
      'error-rate-vs-stable: 0 % vs stable 0 % (threshold 2 × 0.5 % = 1 %); too few requests to judge; ' +
      'latency-p99: no data in the window; latency-p99-vs-stable: no data in the window; ' +
      'prediction-shift: PSI 0.01 between canary and stable scores (threshold 0.25 + 0.0471 sampling noise at these counts); too few requests to judge',
  );
  const stableIdle = verdictOf(measurements({}, { requests: 0 }));
  expect(stableIdle.checks.filter((c) => c.verdict === 'Skipped')).toHaveLength(2);
  expect(stableIdle).toMatchObject({ verdict: 'Pass', message: '4 checks passed over 60s' });
});

describe('prediction shift: its bounds', () => {
  const shiftOf = (canary: Partial<VersionMeasurements>, stable: Partial<VersionMeasurements> = {}, s = spec) =>
    check(measurements(canary, stable), 'prediction-shift', s)!;

  test('exactly minSamples scores on each side are judged; one fewer is not', () => {
    expect(shiftOf({ scores: bins([200, 0, 0]) }, { scores: bins([150, 50, 0]) }).verdict).toBe('Pass');
    expect(shiftOf({ scores: bins([100, 60, 39]) }, { scores: bins([100, 60, 40]) })).toEqual({
      name: 'prediction-shift',
      verdict: 'Inconclusive',
      message: '199 canary and 200 stable scores in the window (minimum 200 each)',
      threshold: 0.25,
    });
    expect(shiftOf({ scores: bins([100, 60, 40]) }, { scores: bins([100, 60, 39]) })).toEqual({
      name: 'prediction-shift',
      verdict: 'Skipped',
      message: '200 canary and 199 stable scores in the window (minimum 200 each)',
      threshold: 0.25,
    });
  });

  test('with minSamples 0, no scores on a side is still no comparison', () => {
    const any = resolveAnalysis({ predictionShift: { minSamples: 0 } });
    expect(shiftOf({}, { scores: bins([0, 0, 0]) }, any).verdict).toBe('Skipped');
    expect(shiftOf({ scores: bins([0, 0, 0]) }, {}, any).verdict).toBe('Inconclusive');
  });

  test('too few requests: the shift is shown, not judged', () => {
    expect(shiftOf({ requests: 10, scores: bins([100, 200, 300]) })).toEqual({
      name: 'prediction-shift',
      verdict: 'Inconclusive',
      message: expect.stringMatching(
        /^PSI 0\.4 between canary and stable scores \(threshold 0\.25 \+ 0\.0\d+ sampling noise at these counts\); too few requests to judge$/,
      ),
      value: 0.4,
      threshold: expect.any(Number),
    });
  });

  // The noise allowance is the chi-square 99.9th percentile over n = n1·n2/(n1+n2): for 3 bins (2 degrees of freedom)
  // that percentile is 13.82, which the Wilson–Hilferty approximation meets within a few %.
  test('the noise allowance: the chi-square percentile of the non-empty bins over the effective count', () => {
    const noise = (c: number[], st: number[], s = spec) =>
      shiftOf({ scores: bins(c) }, { scores: bins(st) }, s).threshold! - s.predictionShift.max;
    const psiNoise = noise([300, 200, 100], [300, 200, 100]);
    expect(psiNoise * 300).toBeGreaterThan(13.82 * 0.97);
    expect(psiNoise * 300).toBeLessThan(13.82 * 1.03);
    // Unequal counts: n = 600·1200/1800 = 400.
    expect(noise([300, 200, 100], [600, 400, 200]) * 400).toBeCloseTo(psiNoise * 300, 10);
    // A bin empty on both sides is no bin.
    expect(noise([300, 200, 0, 100], [300, 200, 0, 100])).toBeCloseTo(psiNoise, 10);
    // One bin: nothing can differ by chance; two bins can.
    expect(noise([600], [600])).toBe(0);
    expect(noise([300, 300], [300, 300])).toBeGreaterThan(0.01);
    // JS distance from the same X²: sqrt(X² / (8n) / ln 2).
    const js = resolveAnalysis({ predictionShift: { method: 'JS', max: 0.1 } });
    expect(noise([300, 200, 100], [300, 200, 100], js)).toBeCloseTo(Math.sqrt(psiNoise / 8 / Math.LN2), 10);
  });

  test.each([
    ['as many bins, other edges', { upperBounds: [0.3, Infinity], counts: [300, 300], total: 600 }],
    ['the stable’s bins less its last', { upperBounds: [0.5], counts: [600], total: 600 }],
  ])('scores binned differently are not compared: %s', (_case, scores) => {
    expect(shiftOf({ scores }, { scores: bins([300, 300]) })).toEqual({
      name: 'prediction-shift',
      verdict: 'Skipped',
      message: 'the versions score into different bins (references with different edges)',
    });
  });

  test('a shift exactly at its bound passes', () => {
    const exact = { psi: () => 0.25, jensenShannon: () => 0 };
    const c = analyse(measurements({ scores: bins([600]) }, { scores: bins([600]) }), spec, exact).checks.find(
      (x) => x.name === 'prediction-shift',
    )!;
    expect(c).toMatchObject({ verdict: 'Pass', value: 0.25, threshold: 0.25 });
  });
});

describe('the values each check reports beside its verdict', () => {
  test.each([
    [
      "samples: the canary's requests against minSamples",
      { requests: 50 },
      {},
      'samples',
      { verdict: 'Pass', message: '50 requests in 60s (minimum 50)', value: 50, threshold: 50 },
    ],
    [
      'latency: no data',
      { p99Seconds: undefined },
      {},
      'latency-p99',
      { verdict: 'Inconclusive', message: 'no data in the window', threshold: 0.5 },
    ],
    [
      'latency: too few requests',
      { requests: 10, p99Seconds: 0.9 },
      {},
      'latency-p99',
      {
        verdict: 'Inconclusive',
        message: '900 ms (threshold 500 ms); too few requests to judge',
        value: 0.9,
        threshold: 0.5,
      },
    ],
    [
      'latency exactly at the bound passes',
      { p99Seconds: 0.5 },
      {},
      'latency-p99',
      { verdict: 'Pass', message: '500 ms <= 500 ms', value: 0.5, threshold: 0.5 },
    ],
    [
      'errors: an idle canary has no error rate',
      { requests: 0, errors: 0 },
      {},
      'error-rate',
      { verdict: 'Inconclusive', message: 'no data in the window', threshold: 0.01 },
    ],
    [
      'errors counted past the requests (counters read apart) are capped at 100 %',
      { requests: 60, errors: 90 },
      {},
      'error-rate',
      { verdict: 'Fail', message: '100 % > 1 %', value: 1, threshold: 0.01 },
    ],
    [
      'vs stable: the canary without latency data',
      { p99Seconds: undefined },
      { p99Seconds: 0.08 },
      'latency-p99-vs-stable',
      { verdict: 'Inconclusive', message: 'no data in the window', stableValue: 0.08, threshold: 0.16 },
    ],
    [
      'vs stable: too few canary requests',
      { requests: 10, p99Seconds: 0.2 },
      { p99Seconds: 0.08 },
      'latency-p99-vs-stable',
      {
        verdict: 'Inconclusive',
        message: '200 ms vs stable 80 ms (threshold 2 × 80 ms = 160 ms); too few requests to judge',
        value: 0.2,
        stableValue: 0.08,
        threshold: 0.16,
      },
    ],
    [
      'vs stable: exactly at the bound passes',
      { p99Seconds: 0.16 },
      { p99Seconds: 0.08 },
      'latency-p99-vs-stable',
      {
        verdict: 'Pass',
        message: '160 ms vs stable 80 ms (threshold 2 × 80 ms = 160 ms)',
        value: 0.16,
        stableValue: 0.08,
        threshold: 0.16,
      },
    ],
    [
      'vs stable: a stable that served exactly minSamples is compared with',
      { p99Seconds: 0.2 },
      { requests: 50, p99Seconds: 0.08 },
      'latency-p99-vs-stable',
      {
        verdict: 'Fail',
        message: '200 ms vs stable 80 ms (threshold 2 × 80 ms = 160 ms)',
        value: 0.2,
        stableValue: 0.08,
        threshold: 0.16,
      },
    ],
    [
      'vs stable: one request short of minSamples is not',
      { p99Seconds: 0.2 },
      { requests: 49, p99Seconds: 0.08 },
      'latency-p99-vs-stable',
      { verdict: 'Skipped', message: 'the stable served too little in the window to compare with' },
    ],
    [
      'vs stable: a stable without latency data is not',
      { p99Seconds: 0.2 },
      { p99Seconds: undefined },
      'latency-p99-vs-stable',
      { verdict: 'Skipped', message: 'the stable served too little in the window to compare with' },
    ],
  ] as const)('%s', (_case, canary, stable, name, expected) => {
    // Strictly: a value the check did not see is absent, not undefined.
    expect(check(measurements(canary, stable), name)).toStrictEqual({ name, ...expected });
  });
});

test('the verdict: any Fail fails (naming every failed check), else any Inconclusive, else Pass; Skipped never blocks', () => {
  const failing = verdictOf(measurements({ errors: 60, p99Seconds: 0.9 }));
  expect(failing.verdict).toBe('Fail');
  expect(failing.message).toBe(
    'error-rate: 10 % > 1 %; error-rate-vs-stable: 10 % vs stable 0 % (threshold 2 × 0.5 % = 1 %); latency-p99: 900 ms > 500 ms; latency-p99-vs-stable: 900 ms vs stable 4 ms (threshold 2 × 50 ms = 100 ms)',
  );
  expect(verdictOf(measurements({ requests: 10 })).verdict).toBe('Inconclusive');
  expect(verdictOf(measurements({ scores: undefined }, { requests: 0 })).verdict).toBe('Pass');
});

test('the ML check compares the canary (live) with the stable (reference), by PSI or JS as asked', () => {
  calls.length = 0;
  verdictOf(measurements({ scores: bins([250, 250, 100]) }));
  // Half a score more in every bin either side scored into (an empty bin in a small sample is chance).
  expect(calls).toEqual(['psi(300.5,200.5,100.5|250.5,250.5,100.5)']);
  // A bin neither version scored into stays empty: it is no bin, as for the noise allowance.
  calls.length = 0;
  verdictOf(measurements({ scores: bins([250, 0, 250, 100]) }, { scores: bins([300, 0, 200, 100]) }));
  expect(calls).toEqual(['psi(300.5,0,200.5,100.5|250.5,0,250.5,100.5)']);
  calls.length = 0;
  const js = resolveAnalysis({ predictionShift: { method: 'JS', max: 0.1 } });
  const byJs = check(measurements({}), 'prediction-shift', js)!;
  expect(byJs).toMatchObject({ verdict: 'Pass', value: 0.05 });
  expect(byJs.threshold).toBeGreaterThan(0.1);
  expect(calls).toEqual(['js(300.5,200.5,100.5|300.5,200.5,100.5)']);
  expect(
    check(measurements({}), 'prediction-shift', resolveAnalysis({ predictionShift: { enabled: false } })),
  ).toBeUndefined();
});

test('with the real statistics (C5): the same score distribution passes, one shifted by a bin fails', () => {
  const real = { psi, jensenShannon };
  const same = analyse(measurements({ scores: bins([600, 400, 200]) }), spec, real);
  const sameCheck = same.checks.find((c) => c.name === 'prediction-shift')!;
  expect(sameCheck.verdict).toBe('Pass');
  expect(sameCheck.value).toBeCloseTo(0, 5);
  const shifted = analyse(measurements({ scores: bins([0, 300, 300]) }), spec, real);
  const check = shifted.checks.find((c) => c.name === 'prediction-shift')!;
  expect(check.verdict).toBe('Fail');
  expect(check.value).toBeCloseTo(psi([300.5, 200.5, 100.5], [0.5, 300.5, 300.5]), 10);
  const js = analyse(
    measurements({ scores: bins([0, 300, 300]) }),
    resolveAnalysis({ predictionShift: { method: 'JS', max: 0.2 } }),
    real,
  );
  expect(js.checks.find((c) => c.name === 'prediction-shift')!.value).toBeCloseTo(
    jensenShannon([300.5, 200.5, 100.5], [0.5, 300.5, 300.5]),
    10,
  );
});

/** Seeded draws of `n` scores into bins with the given shares (a linear congruential generator). */
function sampler(seed: number) {
  const draw = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
  return (shares: readonly number[], n: number) => {
    const counts = shares.map(() => 0);
    for (let i = 0; i < n; i++) {
      let u = draw();
      const bin = shares.findIndex((s) => (u -= s) < 0);
      counts[bin === -1 ? shares.length - 1 : bin]!++;
    }
    return counts;
  };
}

test('the shift check allows for sampling noise: few scores of the same distribution pass, a real shift still fails', () => {
  const real = { psi, jensenShannon };
  // 20 equal bins; the stable's 400 scores exact, the canary's 100 a seeded draw of the same distribution.
  const canary = sampler(7)(new Array<number>(20).fill(1 / 20), 100);
  const stable = new Array<number>(20).fill(20);
  const small = { scores: bins(canary), requests: 100 };
  const spec60 = resolveAnalysis({ minSamples: 30, predictionShift: { minSamples: 60 } });
  const same = analyse(measurements(small, { scores: bins(stable) }), spec60, real).checks.find(
    (c) => c.name === 'prediction-shift',
  )!;
  // Chance alone puts two such samples about 0.2 apart (19 / 80); the bound allows for it.
  expect(same.value).toBeGreaterThan(0.1);
  expect(same.threshold).toBeGreaterThan(same.value!);
  expect(same.verdict).toBe('Pass');
  const shiftedCounts = [...new Array<number>(10).fill(0), ...new Array<number>(10).fill(10)];
  const shifted = analyse(
    measurements({ ...small, scores: bins(shiftedCounts) }, { scores: bins(stable) }),
    spec60,
    real,
  );
  expect(shifted.checks.find((c) => c.name === 'prediction-shift')!.verdict).toBe('Fail');
  // More scores, less noise: the bound closes in on max.
  const many = analyse(
    measurements({ scores: bins(stable.map((c) => c * 50)) }, { scores: bins(stable.map((c) => c * 50)) }),
    spec60,
    real,
  ).checks.find((c) => c.name === 'prediction-shift')!;
  expect(many.threshold! - 0.25).toBeLessThan(0.01);
});

test('bins a small sample left empty are chance: 2 000 analyses of one skewed distribution, no false failure', () => {
  // The fixture model's score shares (10 bins, the smallest 2.4 %); at a canary's first step the bed saw 76
  // canary scores against 300 stable ones, and unsmoothed PSI failed about one analysis in a hundred.
  const counts = [915, 317, 198, 115, 105, 83, 73, 48, 70, 76];
  const shares = counts.map((c) => c / 2000);
  const draw = sampler(11);
  const spec60 = resolveAnalysis({ minSamples: 30, predictionShift: { minSamples: 60 } });
  const verdicts = Array.from({ length: 2000 }, () => {
    const m = measurements({ scores: bins(draw(shares, 76)), requests: 76 }, { scores: bins(draw(shares, 300)) });
    return analyse(m, spec60, { psi, jensenShannon }).checks.find((c) => c.name === 'prediction-shift')!;
  });
  expect(verdicts.filter((v) => v.verdict === 'Fail')).toHaveLength(0);
  // Some of those samples did leave a bin empty that the other filled.
  expect(verdicts.filter((v) => v.value! > 0.3).length).toBeGreaterThan(0);
  // A canary whose scores moved one bin up still fails every time.
  const moved = shares.map((_s, i) => (i === 0 ? 0 : shares[i - 1]! + (i === 9 ? shares[9]! : 0)));
  const shifted = Array.from({ length: 200 }, () =>
    analyse(
      measurements({ scores: bins(draw(moved, 76)), requests: 76 }, { scores: bins(draw(shares, 300)) }),
      spec60,
      { psi, jensenShannon },
    ).checks.find((c) => c.name === 'prediction-shift')!,
  );
  expect(shifted.filter((v) => v.verdict === 'Fail')).toHaveLength(200);
});

test.each([
  ['above max', { max: 0.05 }, { value: 0.08 }, 'Fail', '0.08 (must be <= 0.05)', 0.05],
  ['within max', { max: 0.05 }, { value: 0.01 }, 'Pass', '0.01 (must be <= 0.05)', 0.05],
  ['below min', { min: 0.5, max: 2 }, { value: 0.2 }, 'Fail', '0.2 (must be >= 0.5 and <= 2)', 0.5],
  ['no data', { max: 1 }, { problem: 'the query returned no data' }, 'Inconclusive', 'the query returned no data', 1],
  [
    'several series',
    { max: 1 },
    { problem: 'the query returned 2 series; a check needs one number' },
    'Inconclusive',
    'the query returned 2 series; a check needs one number',
    1,
  ],
] as const)('a PromQL check %s → %s', (_case, bounds, outcome, verdict, message, threshold) => {
  const s = resolveAnalysis({ queries: [{ name: 'positive-rate', query: 'x', ...bounds }] });
  const m = { ...measurements({}), queries: { 'positive-rate': outcome } };
  expect(check(m, 'query:positive-rate', s)).toMatchObject({ verdict, message, threshold });
});

test.each([
  ['a min only, met', { min: 0.5 }, { value: 0.5 }, 'Pass', '0.5 (must be >= 0.5)', 0.5],
  ['a min only, missed', { min: 0.5 }, { value: 0.4 }, 'Fail', '0.4 (must be >= 0.5)', 0.5],
  ['a max met exactly', { max: 0.05 }, { value: 0.05 }, 'Pass', '0.05 (must be <= 0.05)', 0.05],
  ['min and max, above max', { min: 0.5, max: 2 }, { value: 3 }, 'Fail', '3 (must be >= 0.5 and <= 2)', 2],
  ['a min only, no data', { min: 0.5 }, {}, 'Inconclusive', 'the query returned no data', 0.5],
  ['NaN', { max: 1 }, { value: NaN }, 'Inconclusive', 'the query returned no data', 1],
  ['not run at all', { max: 1 }, undefined, 'Inconclusive', 'the query was not run', 1],
] as const)('a PromQL check: %s → %s', (_case, bounds, outcome, verdict, message, threshold) => {
  const s = resolveAnalysis({ queries: [{ name: 'q', query: 'x', ...bounds }] });
  const queries: Measurements['queries'] = outcome ? { q: outcome } : {};
  const m = { ...measurements({}), queries };
  expect(check(m, 'query:q', s)).toEqual({
    name: 'query:q',
    verdict,
    message,
    threshold,
    ...(outcome && 'value' in outcome && !Number.isNaN(outcome.value) ? { value: outcome.value } : {}),
  });
});

test('a PromQL check is not judged before the canary served minSamples requests', () => {
  const s = resolveAnalysis({ queries: [{ name: 'q', query: 'x', max: 0.05 }] });
  const m = { ...measurements({ requests: 10 }), queries: { q: { value: 0.08 } } };
  expect(check(m, 'query:q', s)).toEqual({
    name: 'query:q',
    verdict: 'Inconclusive',
    message: '0.08 (must be <= 0.05); too few requests to judge',
    value: 0.08,
    threshold: 0.05,
  });
});

test("resolveAnalysis: every default, and the spec's own values", () => {
  expect(resolveAnalysis(undefined)).toEqual({
    intervalSeconds: 30,
    windowSeconds: 60,
    failureLimit: 2,
    minSamples: 50,
    metricsUnavailableRollbackSeconds: expect.any(Number),
    errorRate: { max: 0.01, maxRatioToStable: 2, noiseFloor: 0.005 },
    latencyP99: { maxMs: 500, maxRatioToStable: 2, noiseFloorMs: 50 },
    predictionShift: expect.objectContaining({ method: 'PSI', max: 0.25, minSamples: 200, enabled: true }),
    queries: [],
  });
  const given = {
    intervalSeconds: 10,
    windowSeconds: 20,
    failureLimit: 3,
    minSamples: 5,
    metricsUnavailableRollbackSeconds: 90,
    prometheusUrl: 'http://prometheus.monitoring:9090',
  };
  // Every value given is kept; the latency and prediction checks are completed with their defaults.
  expect(resolveAnalysis({ ...given, latencyP99: { maxMs: 200 }, predictionShift: { method: 'JS' } })).toMatchObject({
    ...given,
    latencyP99: { maxMs: 200, maxRatioToStable: 2, noiseFloorMs: 50 },
    predictionShift: { method: 'JS', max: 0.25, minSamples: 200, enabled: true },
  });
  expect(resolveAnalysis({})).not.toHaveProperty('prometheusUrl');
});

describe('queries', () => {
  const target = { namespace: 'ml', model: 'fraud', canary: 'v2', stable: 'v1.0', windowSeconds: 60 };
  test('select both versions by their own labels (dots escaped), never by role', () => {
    expect(versionsSelector(target)).toBe('{namespace="ml",model="fraud",version=~"v2|v1\\\\.0"}');
    expect(requestsQuery(target)).toBe(
      'sum by (version) (increase(modelops_inference_requests_total{namespace="ml",model="fraud",version=~"v2|v1\\\\.0"}[60s]))',
    );
    expect(errorsQuery(target)).toContain(',code=~"5.."}[60s]');
    expect(p99Query(target)).toBe(
      'histogram_quantile(0.99, sum by (version, le) (rate(modelops_inference_request_duration_seconds_bucket{namespace="ml",model="fraud",version=~"v2|v1\\\\.0"}[60s])))',
    );
    expect(scoresQuery(target)).toContain('increase(modelops_prediction_score_bucket{');
    expect(scoresQuery(target)).not.toContain('role');
  });

  test('a canary alone: its version only, and ${stableVersion} empty', () => {
    const canaryOnly = { namespace: 'ml', model: 'fraud', canary: 'v2', windowSeconds: 60 };
    expect(versionsSelector(canaryOnly)).toBe('{namespace="ml",model="fraud",version=~"v2"}');
    expect(userQuery('y{version="${stableVersion}"}', canaryOnly)).toBe('y{version=""}');
  });

  test('a user query gets its placeholders filled', () => {
    expect(
      userQuery(
        'x{model="${model}",version="${version}",ns="${namespace}"}[${window}] / y{version="${stableVersion}"} ${other}',
        target,
      ),
    ).toBe('x{model="fraud",version="v2",ns="ml"}[60s] / y{version="v1.0"} ${other}');
  });
});
