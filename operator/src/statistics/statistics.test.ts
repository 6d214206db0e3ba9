// Every statistic against SciPy (testdata/scipy-cases.json, written by make-scipy-cases.py) and
// against published worked examples.
import { readFileSync } from 'node:fs';
import { chiSquare, EmptyDistributionError, jensenShannon, ksBinned, psi, PSI_EPSILON } from './index.js';

interface Case {
  name: string;
  reference: number[];
  live: number[];
  psi: number;
  'psiEpsilon1e-6': number;
  ks: number;
  jensenShannon: number;
  chiSquare: { statistic: number; pValue: number; dof: number };
}
const table = JSON.parse(readFileSync('operator/src/statistics/testdata/scipy-cases.json', 'utf8')) as {
  psiEpsilon: number;
  distributions: Case[];
};

/** Relative tolerance, with an absolute floor for values that are zero. */
function expectClose(actual: number, expected: number, relative = 1e-9, absolute = 1e-12) {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(absolute, relative * Math.abs(expected)));
}

describe('against SciPy', () => {
  test('the table covers empty, zero-probability, tiny, identical and disjoint cases', () => {
    const names = table.distributions.map((c) => c.name).join(' | ');
    for (const kind of ['empty bin', 'zero-probability', 'tiny samples', 'identical', 'disjoint'])
      expect(names).toContain(kind);
    expect(table.psiEpsilon).toBe(PSI_EPSILON);
  });

  describe.each(table.distributions)('$name', (c) => {
    test('PSI', () => {
      expectClose(psi(c.reference, c.live), c.psi);
      expectClose(psi(c.reference, c.live, { epsilon: 1e-6 }), c['psiEpsilon1e-6']);
    });
    test('KS on bins', () => expectClose(ksBinned(c.reference, c.live), c.ks));
    test('Jensen-Shannon distance', () => expectClose(jensenShannon(c.reference, c.live), c.jensenShannon, 1e-9, 1e-7));
    test('chi-square', () => {
      const result = chiSquare(c.reference, c.live);
      expect(result.dof).toBe(c.chiSquare.dof);
      expectClose(result.statistic, c.chiSquare.statistic, 1e-9, 1e-9);
      expectClose(result.pValue, c.chiSquare.pValue, 1e-8, 1e-300);
    });
  });
});

describe('published worked examples', () => {
  test('chi-square: SciPy chi2_contingency documentation, table [[10, 10, 20], [20, 20, 20]]', () => {
    // Documented result: statistic 2.7777777777777777, p-value 0.24935220877729619, dof 2.
    const result = chiSquare([10, 10, 20], [20, 20, 20]);
    expectClose(result.statistic, 2.7777777777777777);
    expectClose(result.pValue, 0.24935220877729619, 1e-12);
    expect(result.dof).toBe(2);
  });

  test('Jensen-Shannon: SciPy jensenshannon documentation examples', () => {
    // jensenshannon([1, 0, 0], [0, 1, 0], 2.0) == 1.0
    expect(jensenShannon([1, 0, 0], [0, 1, 0])).toBe(1);
    // jensenshannon([1, 0], [0.5, 0.5]) == 0.46450140402245893 in natural logs; base 2 divides by sqrt(ln 2).
    expectClose(jensenShannon([1, 0], [0.5, 0.5]), 0.46450140402245893 / Math.sqrt(Math.LN2), 1e-12);
    // jensenshannon([1, 0], [1, 0]) == 0
    expect(jensenShannon([1, 0], [1, 0])).toBe(0);
  });

  test('PSI in closed form: halves against quarters is ln(3) / 4', () => {
    // (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 (ln 2 + ln 1.5) = ln(3) / 4
    expectClose(psi([50, 50], [25, 75]), Math.log(3) / 4, 1e-14);
  });

  test('PSI: an empty bin counts as epsilon, not as infinity', () => {
    // reference 10 % in the last bin, live none: 0.1 ln(0.1 / 1e-4) plus the other bins' share.
    const expected = (0.1 - 1e-4) * Math.log(0.1 / 1e-4) + (1 - 0.9) * Math.log(1 / 0.9);
    expectClose(psi([90, 10], [100, 0]), expected, 1e-12);
    expect(Number.isFinite(psi([1, 0], [0, 1]))).toBe(true);
  });

  test('KS on bins in closed form: the largest gap between cumulative shares', () => {
    // CDFs 0.2, 0.5, 1 against 0.5, 0.6, 1: largest gap 0.3 at the first edge.
    expectClose(ksBinned([2, 3, 5], [5, 1, 4]), 0.3, 1e-14);
  });
});

describe('input checks', () => {
  const all = [psi, ksBinned, jensenShannon, chiSquare] as const;

  test.each(all.map((f) => [f.name, f]))('%s refuses empty histograms: "not enough data", never 0', (_, f) => {
    expect(() => f([0, 0, 0], [1, 2, 3])).toThrow(EmptyDistributionError);
    // A log line or status message shows the error by its name.
    expect(() => f([0, 0, 0], [1, 2, 3])).toThrow(expect.objectContaining({ name: 'EmptyDistributionError' }));
    expect(() => f([1, 2, 3], [0, 0, 0])).toThrow(/live histogram is empty/);
    expect(() => f([], [])).toThrow(EmptyDistributionError);
  });

  test.each(all.map((f) => [f.name, f]))('%s refuses mismatched bins and negative counts', (_, f) => {
    expect(() => f([1, 2], [1, 2, 3])).toThrow(/different bins: 2 reference, 3 live/);
    expect(() => f([1, -1, 3], [1, 2, 3])).toThrow(/reference bin 1 has count -1/);
    expect(() => f([1, 2, 3], [1, NaN, 3])).toThrow(/live bin 1 has count NaN/);
  });

  test.each([0, 1, -0.5, 1.5, NaN])('PSI refuses an epsilon of %p: it must lie in (0, 1)', (epsilon) => {
    expect(() => psi([1], [1], { epsilon })).toThrow(`epsilon must be in (0, 1), got ${epsilon}`);
  });
});

describe('properties', () => {
  test('only the shape matters to PSI, KS and JS; scale matters to chi-square', () => {
    const reference = [10, 30, 40, 20];
    const live = [20, 30, 30, 20];
    const scaled = live.map((c) => c * 10);
    expect(psi(reference, scaled)).toBeCloseTo(psi(reference, live), 12);
    expect(ksBinned(reference, scaled)).toBeCloseTo(ksBinned(reference, live), 12);
    expect(jensenShannon(reference, scaled)).toBeCloseTo(jensenShannon(reference, live), 12);
    expect(chiSquare(reference, scaled).pValue).toBeLessThan(chiSquare(reference, live).pValue);
  });

  test('PSI, JS and KS are symmetric', () => {
    const a = [5, 1, 0, 7];
    const b = [2, 2, 3, 1];
    expect(jensenShannon(a, b)).toBeCloseTo(jensenShannon(b, a), 14);
    expect(psi(a, b)).toBeCloseTo(psi(b, a), 14);
    expect(ksBinned(a, b)).toBeCloseTo(ksBinned(b, a), 14);
  });
});
