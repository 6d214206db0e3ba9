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
  ])('ln Γ(%d)', (z, expected) => {
    expect(Math.abs(logGamma(z) - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
  });
});

test('Q refuses arguments outside its domain', () => {
  expect(() => regularizedUpperGamma(0, 1)).toThrow(/a > 0 and x >= 0/);
  expect(() => regularizedUpperGamma(1, -1)).toThrow(/a > 0 and x >= 0/);
  expect(regularizedUpperGamma(3, 0)).toBe(1);
  expect(regularizedUpperGamma(3, Infinity)).toBe(0);
});
