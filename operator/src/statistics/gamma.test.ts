import { readFileSync } from 'node:fs';
import { logGamma, regularizedUpperGamma } from './gamma.js';

const table = JSON.parse(readFileSync('operator/src/statistics/testdata/scipy-cases.json', 'utf8')) as {
  regularizedUpperGamma: { a: number; x: number; q: number }[];
};

describe('regularizedUpperGamma against scipy.special.gammaincc', () => {
  test.each(table.regularizedUpperGamma)('Q($a, $x) = $q', ({ a, x, q }) => {
    const actual = regularizedUpperGamma(a, x);
    // Relative 1e-10 down to the smallest doubles: the tail is where significance lives.
    expect(Math.abs(actual - q)).toBeLessThanOrEqual(Math.max(1e-10 * q, 1e-300));
  });

  test('the table reaches deep into the tail and across the switch between the two expansions', () => {
    const qs = table.regularizedUpperGamma.map((c) => c.q);
    expect(Math.min(...qs.filter((q) => q > 0))).toBeLessThan(1e-250);
    expect(table.regularizedUpperGamma.some((c) => c.x < c.a + 1 && c.a > 100)).toBe(true);
    expect(table.regularizedUpperGamma.some((c) => c.x >= c.a + 1 && c.a > 100)).toBe(true);
  });
});

test.each([
  // Upper critical values of the chi-square distribution at alpha = 0.05, as printed (three decimals)
  // in the NIST/SEMATECH e-Handbook of Statistical Methods, section 1.3.6.7.4.
  [1, 3.841],
  [2, 5.991],
  [5, 11.07],
  [10, 18.307],
  [19, 30.144],
])('the chi-square p-value Q(dof / 2, x / 2) at the published 5%% critical value for dof %i is 0.05', (dof, x) => {
  expect(Math.abs(regularizedUpperGamma(dof / 2, x / 2) - 0.05)).toBeLessThan(2e-4);
});

describe('logGamma', () => {
  test.each([
    [1, 0],
    [2, 0],
    [5, Math.log(24)],
    [0.5, Math.log(Math.sqrt(Math.PI))],
    [0.25, Math.log(3.625609908221908)], // Γ(1/4), through the reflection formula
    [171, Math.log(7.257415615307994e306)], // Γ(171) = 170!
    [1e-300, 690.7755278982137], // scipy.special.gammaln(1e-300): Γ(z) ~ 1/z, finite through the reflection formula
  ])('ln Γ(%d)', (z, expected) => {
    expect(Math.abs(logGamma(z) - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
  });
});

test('Q refuses arguments outside its domain and is exact at its edges', () => {
  expect(() => regularizedUpperGamma(0, 1)).toThrow(/a > 0 and x >= 0/);
  expect(() => regularizedUpperGamma(1, -1)).toThrow(/a > 0 and x >= 0/);
  expect(regularizedUpperGamma(3, 0)).toBe(1);
  expect(regularizedUpperGamma(Number.MIN_VALUE, 0)).toBe(1); // Q(a, 0) = 1 for every a > 0, however small
  expect(regularizedUpperGamma(3, Infinity)).toBe(0);
});

// Each expansion gives up after 100 000 - 1 terms with an error naming its arguments, rather than return a sum that
// has not converged. The arguments were found by counting each expansion's terms to convergence: the series (x < a + 1)
// converges at its 99 999th term for x = 199995389 and would need its 100 000th for x = 199995390 (a = 2e8); the
// continued fraction (x >= a + 1) would need its 100 000th for a = 1.45e12, x = a + 584. At x = a + 1 itself (a = 5e8)
// the continued fraction converges in about 7 500 terms where the series would need more than 100 000.
// The values are scipy.special.gammaincc's. At a this large e^-x x^a / Γ(a) is computed from logs near 1e10, whose
// rounding leaves about six significant digits: hence 1e-5 here, against 1e-10 over the table above.
test.each<[number, number, number | RegExp]>([
  [2e8, 199995389, 0.627797609776045],
  [2e8, 199995390, /^incomplete gamma series did not converge for a=200000000, x=199995390$/],
  [
    1.45e12,
    1450000000584,
    /^incomplete gamma continued fraction did not converge for a=1450000000000, x=1450000000584$/,
  ],
  [5e8, 5e8 + 1, 0.499976211678478],
])('Q(%d, %d) at the limit of its expansions: %p', (a, x, expected) => {
  if (expected instanceof RegExp) expect(() => regularizedUpperGamma(a, x)).toThrow(expected);
  else expect(Math.abs(regularizedUpperGamma(a, x) - expected)).toBeLessThanOrEqual(1e-5 * expected);
});
