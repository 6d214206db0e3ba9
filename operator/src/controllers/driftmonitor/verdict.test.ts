import { CENTRED, distributions, evidence, histogram, NUDGED, SHIFTED } from './fixtures.test-helpers.js';
import { DEFAULT_THRESHOLDS, evaluateVersion, policyOf, PREDICTION, severityOf, type Policy } from './verdict.js';

const policy = (overrides: Partial<Policy> = {}): Policy => ({ ...policyOf({ model: 'fraud' }), ...overrides });

describe('policyOf', () => {
  test('defaults: PSI 0.1 / 0.25, 500 samples, half the features, the prediction watched', () => {
    expect(policyOf({ model: 'fraud' })).toEqual({
      tests: [{ method: 'PSI', warning: 0.1, critical: 0.25 }],
      minSamples: 500,
      driftedShare: 0.5,
      prediction: true,
      windowSeconds: 3600,
    });
  });

  test("a test without thresholds takes its method's defaults; given ones win", () => {
    const p = policyOf({ model: 'fraud', tests: [{ method: 'ChiSquare' }, { method: 'KS', critical: 0.3 }] });
    expect(p.tests).toEqual([
      { method: 'ChiSquare', ...DEFAULT_THRESHOLDS.ChiSquare },
      { method: 'KS', warning: 0.1, critical: 0.3 },
    ]);
  });
});

describe('severityOf', () => {
  test.each([
    ['PSI', 0.05, 'None'],
    ['PSI', 0.1, 'Warning'],
    ['PSI', 0.25, 'Critical'],
    ['JS', 0.15, 'Warning'],
    // ChiSquare scores a p-value: lower is worse.
    ['ChiSquare', 0.5, 'None'],
    ['ChiSquare', 0.03, 'Warning'],
    ['ChiSquare', 0.001, 'Critical'],
  ] as const)('%s %d → %s', (method, score, expected) => {
    expect(severityOf({ method, ...DEFAULT_THRESHOLDS[method] }, score)).toBe(expected);
  });
});

describe('the chain stops before any score when a version cannot be judged', () => {
  test.each([
    [
      'no reference',
      evidence({ reference: { error: 'no modelops_reference_* series for fraud v1' } }),
      'Unavailable',
      'ReferenceUnavailable',
      /no modelops_reference_\* series/,
    ],
    [
      'Prometheus down',
      evidence({ live: { error: 'Prometheus: connect ECONNREFUSED' } }),
      'Unavailable',
      'LiveDataUnavailable',
      /ECONNREFUSED/,
    ],
    [
      'too little traffic',
      evidence({ samples: 120 }),
      'NotEnoughData',
      'NotEnoughData',
      /120 predictions in the last 3600s, fewer than minSamples 500/,
    ],
    [
      'too little traffic, even if what there is looks drifted',
      evidence({ samples: 3, liveDistributions: distributions(10, { f0: SHIFTED, f1: SHIFTED }) }),
      'NotEnoughData',
      'NotEnoughData',
      /fewer than minSamples/,
    ],
    [
      'the live buckets are not the reference bins',
      evidence({
        liveDistributions: {
          ...distributions(10),
          features: new Map(
            [...distributions(10).features].map(([k, v]) => [
              k,
              k === 'f3' ? { ...v, upperBounds: [0, Infinity], counts: [1, 1] } : v,
            ]),
          ),
        },
      }),
      'Unavailable',
      'BinsMismatch',
      /live buckets of f3 \(2 bins\) are not the reference's bins \(5\)/,
    ],
    [
      'a monitored feature with no live histogram',
      evidence({ liveDistributions: { features: new Map(), prediction: histogram(CENTRED) } }),
      'Unavailable',
      'BinsMismatch',
      /no live histogram for f0/,
    ],
  ] as const)('%s', (_name, input, verdict, reason, message) => {
    const result = evaluateVersion(policy(), input);
    expect(result.verdict.verdict).toBe(verdict);
    expect(result.reason).toBe(reason);
    expect(result.verdict.message).toMatch(message);
    expect(result.verdict.features).toBeUndefined();
  });

  test('features asked for that the reference lacks', () => {
    const result = evaluateVersion(policy({ features: ['f1', 'amount', 'age'] }), evidence());
    expect(result).toMatchObject({
      reason: 'UnknownFeatures',
      verdict: { verdict: 'Unavailable', message: 'not in the reference of v1: amount, age' },
    });
  });
});

describe('the verdict', () => {
  test('live traffic like the reference: no drift, every series None', () => {
    const result = evaluateVersion(policy(), evidence({ liveDistributions: distributions(10, { f0: NUDGED }) }));
    expect(result.verdict).toMatchObject({ verdict: 'None', samples: 1000, driftedShare: 0 });
    expect(result.reason).toBe('NoDrift');
    expect(result.verdict.features).toHaveLength(11);
    expect(result.verdict.features!.every((f) => f.severity === 'None')).toBe(true);
    // The worst first: f0 moved a little, the others not at all.
    expect(result.verdict.features![0]!.name).toBe('f0');
  });

  test('two shifted features of ten are exactly the two critical ones; below the drifted share it is a Warning', () => {
    const live = distributions(10, { f2: SHIFTED, f7: SHIFTED });
    const result = evaluateVersion(policy(), evidence({ liveDistributions: live }));
    const critical = result.verdict.features!.filter((f) => f.severity === 'Critical').map((f) => f.name);
    expect(critical.sort()).toEqual(['f2', 'f7']);
    expect(result.verdict).toMatchObject({ verdict: 'Warning', driftedShare: 0.2 });
    expect(result.verdict.message).toBe(
      '2 of 10 features critical (f2 PSI=0.9861, f7 PSI=0.9861); drifted share 0.2 < 0.5; prediction score stable (PSI=0)',
    );
    expect(result.worst).toMatch(/^f2 PSI=/);
  });

  test('at the drifted share the model is in breach', () => {
    const live = distributions(10, { f2: SHIFTED, f7: SHIFTED });
    const result = evaluateVersion(policy({ driftedShare: 0.2 }), evidence({ liveDistributions: live }));
    expect(result.verdict.verdict).toBe('Critical');
    expect(result.reason).toBe('Critical');
    expect(result.verdict.message).toMatch(/drifted share 0\.2 >= 0\.2/);
  });

  test('a critical prediction score is a breach by itself; it does not count towards the share', () => {
    const result = evaluateVersion(policy(), evidence({ liveDistributions: distributions(10, {}, SHIFTED) }));
    expect(result.verdict).toMatchObject({ verdict: 'Critical', driftedShare: 0 });
    // The status names it `:prediction`, which no feature of a reference can be called.
    expect(result.verdict.features![0]).toMatchObject({ name: ':prediction', severity: 'Critical' });
    expect(result.verdict.message).toMatch(/prediction score critical \(PSI=0\.9861\)/);
  });

  test('the prediction can be left out', () => {
    const result = evaluateVersion(
      policy({ prediction: false }),
      evidence({ liveDistributions: distributions(10, {}, SHIFTED) }),
    );
    expect(result.verdict.verdict).toBe('None');
    expect(result.verdict.features!.map((f) => f.name)).not.toContain(PREDICTION);
  });

  test('only the features asked for are judged', () => {
    const live = distributions(10, { f2: SHIFTED, f7: SHIFTED });
    const result = evaluateVersion(
      policy({ features: ['f2', 'f3'], prediction: false }),
      evidence({ liveDistributions: live }),
    );
    expect(result.verdict.features!.map((f) => [f.name, f.severity])).toEqual([
      ['f2', 'Critical'],
      ['f3', 'None'],
    ]);
    expect(result.verdict).toMatchObject({ verdict: 'Critical', driftedShare: 0.5 });
  });

  test('every method scores; a series takes the worst severity of its tests', () => {
    const tests = (['PSI', 'KS', 'JS', 'ChiSquare'] as const).map((method) => ({
      method,
      ...DEFAULT_THRESHOLDS[method],
    }));
    const result = evaluateVersion(
      policy({ tests, prediction: false }),
      evidence({ liveDistributions: distributions(2, { f0: SHIFTED }), reference: distributions(2) }),
    );
    const f0 = result.verdict.features!.find((f) => f.name === 'f0')!;
    expect(Object.keys(f0.scores).sort()).toEqual(['ChiSquare', 'JS', 'KS', 'PSI']);
    expect(f0.severity).toBe('Critical');
    expect(f0.scores.ChiSquare).toBeLessThan(1e-10);
    const f1 = result.verdict.features!.find((f) => f.name === 'f1')!;
    expect(f1).toMatchObject({ severity: 'None', scores: { PSI: 0, KS: 0, JS: 0, ChiSquare: 1 } });
  });
});

describe('the edges of the policy and the chain', () => {
  test("the spec's own settings win; an empty feature list means every feature", () => {
    expect(
      policyOf({
        model: 'fraud',
        minSamples: 50,
        driftedShare: 0.3,
        prediction: false,
        windowSeconds: 600,
        features: ['f1'],
      }),
    ).toEqual({
      tests: [{ method: 'PSI', warning: 0.1, critical: 0.25 }],
      minSamples: 50,
      driftedShare: 0.3,
      prediction: false,
      windowSeconds: 600,
      features: ['f1'],
    });
    expect(policyOf({ model: 'fraud', features: [] })).not.toHaveProperty('features');
  });

  test('exactly minSamples predictions are judged; the count is reported rounded, with the window', () => {
    expect(evaluateVersion(policy(), evidence({ samples: 500 })).verdict).toMatchObject({
      verdict: 'None',
      samples: 500,
    });
    const few = evaluateVersion(policy({ windowSeconds: 900 }), evidence({ samples: 120.6 }));
    expect(few.verdict).toEqual({
      version: 'v1',
      modelVersion: 'fraud-v1',
      role: 'stable',
      verdict: 'NotEnoughData',
      message: '121 predictions in the last 900s, fewer than minSamples 500: not judged',
      samples: 121,
    });
    const down = evaluateVersion(policy(), evidence({ live: { error: 'Prometheus: timeout' } }));
    expect(down.verdict).not.toHaveProperty('samples');
  });

  test('an empty reference histogram cannot be compared with', () => {
    const reference = distributions(10, { f4: [0, 0, 0, 0, 0] });
    const result = evaluateVersion(policy(), evidence({ reference }));
    expect(result).toMatchObject({
      reason: 'ReferenceUnavailable',
      verdict: { verdict: 'Unavailable', message: 'the reference of f4 is empty' },
    });
  });

  test('a reference without a prediction histogram: the prediction is not judged', () => {
    const reference = distributions(10);
    delete reference.prediction;
    const result = evaluateVersion(
      policy(),
      evidence({ reference, liveDistributions: distributions(10, {}, SHIFTED) }),
    );
    expect(result.verdict.verdict).toBe('None');
    expect(result.verdict.features!.map((f) => f.name)).not.toContain(PREDICTION);
    expect(result.verdict.message).not.toMatch(/prediction/);
  });

  test('a prediction score that drifted short of critical is a warning, and says so', () => {
    const result = evaluateVersion(
      policy(),
      evidence({ liveDistributions: distributions(10, {}, [40, 130, 400, 270, 160]) }),
    );
    expect(result.verdict.verdict).toBe('Warning');
    expect(result.reason).toBe('Warning');
    expect(result.verdict.message).toMatch(/; prediction score warning \(PSI=0\.\d+\)$/);
  });

  test('only the prediction is watched: no features, a share of 0', () => {
    const only = (counts: number[]) => ({ features: new Map(), prediction: histogram(counts) });
    const result = evaluateVersion(
      policy({ driftedShare: 0 }),
      evidence({ reference: only(CENTRED), liveDistributions: only(CENTRED) }),
    );
    expect(result.verdict).toMatchObject({ verdict: 'None', driftedShare: 0 });
    expect(result.verdict.message).toMatch(/^0 of 0 features critical; drifted share 0 >= 0;/);
  });
});

describe('which series is the worst', () => {
  test.each([
    ['ChiSquare', 0.05, 'Warning'],
    ['ChiSquare', 0.01, 'Critical'],
    ['ChiSquare', 0.0100001, 'Warning'],
    ['PSI', 0.2499, 'Warning'],
    ['KS', 0.0999, 'None'],
  ] as const)('severityOf %s at %d → %s', (method, score, expected) => {
    expect(severityOf({ method, ...DEFAULT_THRESHOLDS[method] }, score)).toBe(expected);
  });

  test('series are ranked by how far past their critical threshold they are, across methods', () => {
    // KS's critical bound is lower than PSI's, so a feature shifted by KS's measure outranks PSI's score of it.
    const tests = [
      { method: 'PSI' as const, warning: 0.1, critical: 10 },
      { method: 'KS' as const, warning: 0.1, critical: 0.2 },
    ];
    const result = evaluateVersion(
      policy({ tests, prediction: false }),
      evidence({ liveDistributions: distributions(10, { f6: SHIFTED }) }),
    );
    expect(result.worst).toMatch(/^f6 KS=0\.\d+$/);
    const chi = evaluateVersion(
      policy({
        tests: [
          { method: 'ChiSquare', ...DEFAULT_THRESHOLDS.ChiSquare },
          { method: 'PSI', ...DEFAULT_THRESHOLDS.PSI },
        ],
        prediction: false,
      }),
      evidence({ liveDistributions: distributions(10, { f6: SHIFTED }) }),
    );
    // A p-value of (nearly) 0 is infinitely past its bound: nothing outranks it.
    expect(chi.worst).toMatch(/^f6 ChiSquare=/);
  });

  test('a ChiSquare p-value of exactly 0 is infinitely past even a critical bound of 0', () => {
    const tests = [
      { method: 'ChiSquare' as const, warning: 0.05, critical: 0 },
      { method: 'PSI' as const, ...DEFAULT_THRESHOLDS.PSI },
    ];
    const result = evaluateVersion(
      policy({ tests, prediction: false }),
      evidence({
        reference: distributions(10, { f6: [1000, 0, 0, 0, 0] }),
        liveDistributions: distributions(10, { f6: [0, 0, 0, 0, 1000] }),
      }),
    );
    expect(result.worst).toBe('f6 ChiSquare=0');
  });

  test('a critical threshold of 0 and a score of exactly 0: the series is at it, named with its test', () => {
    const tests = [{ method: 'PSI' as const, warning: 0.1, critical: 0 }];
    const result = evaluateVersion(policy({ tests, prediction: false }), evidence());
    expect(result.worst).toBe('f0 PSI=0');
  });

  test('a large ChiSquare p-value is far from its bound: a PSI shift of the same series ranks above it', () => {
    const tests = [
      { method: 'ChiSquare' as const, ...DEFAULT_THRESHOLDS.ChiSquare },
      { method: 'PSI' as const, ...DEFAULT_THRESHOLDS.PSI },
    ];
    const result = evaluateVersion(
      policy({ tests, prediction: false }),
      // Ten live predictions: far off by PSI, but too few for the chi-square test to tell them apart.
      evidence({ liveDistributions: distributions(10, { f6: [0, 1, 3, 3, 3] }) }),
    );
    expect(result.worst).toMatch(/^f6 PSI=\d/);
    expect(result.verdict.features!.find((f) => f.name === 'f6')!.scores.ChiSquare).toBeGreaterThan(0.01);
  });

  test('a series takes the worst severity of its tests, whichever test comes last', () => {
    const tests = [
      { method: 'PSI' as const, ...DEFAULT_THRESHOLDS.PSI },
      { method: 'KS' as const, warning: 0.8, critical: 0.9 },
    ];
    const result = evaluateVersion(
      policy({ tests, prediction: false }),
      evidence({ liveDistributions: distributions(10, { f6: SHIFTED }) }),
    );
    expect(result.verdict.features![0]).toMatchObject({ name: 'f6', severity: 'Critical' });
    expect(result.verdict.features![0]!.scores.KS).toBeLessThan(0.8);
  });

  test('tests that score a series alike: the first one listed names it', () => {
    const tests = [
      { method: 'PSI' as const, ...DEFAULT_THRESHOLDS.PSI },
      { method: 'KS' as const, ...DEFAULT_THRESHOLDS.KS },
    ];
    expect(evaluateVersion(policy({ tests, prediction: false }), evidence()).worst).toBe('f0 PSI=0');
  });

  test('series that score alike are listed by name', () => {
    const result = evaluateVersion(policy({ prediction: false }), evidence());
    expect(result.verdict.features!.map((f) => f.name)).toEqual([
      'f0',
      'f1',
      'f2',
      'f3',
      'f4',
      'f5',
      'f6',
      'f7',
      'f8',
      'f9',
    ]);
    const shifted = evaluateVersion(
      policy({ prediction: false }),
      evidence({ liveDistributions: distributions(10, { f8: SHIFTED, f3: SHIFTED }) }),
    );
    expect(shifted.verdict.features!.slice(0, 3).map((f) => f.name)).toEqual(['f3', 'f8', 'f0']);
  });
});
