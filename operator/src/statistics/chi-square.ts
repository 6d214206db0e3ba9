// Pearson's chi-square test of homogeneity between the reference and the live histogram: the 2 x k
// contingency table [reference; live], expected counts from its margins, no Yates correction (as
// scipy.stats.chi2_contingency(table, correction=False)). Both sides are samples (the reference is
// the training run's validation split), so this is the two-sample test, not a goodness-of-fit test
// against fixed reference proportions.
//
// Unlike the other statistics the counts are used as counts, not only as proportions: the test's
// power grows with the sample size, so with thousands of live predictions a tiny shift is
// "significant". Use the p-value with that in mind (or PSI/JS as effect sizes). Bins empty on both
// sides are dropped (they carry no information and would make an expected count zero); the usual
// rule of thumb wants expected counts >= 5, which the DriftMonitor's minimum sample count guards.
import { checkedTotals } from './binned.js';
import { regularizedUpperGamma } from './gamma.js';

export interface ChiSquareResult {
  statistic: number;
  /** P(chi-square with `dof` degrees of freedom >= statistic). */
  pValue: number;
  /** Non-empty bins - 1. */
  dof: number;
}

export function chiSquare(reference: readonly number[], live: readonly number[]): ChiSquareResult {
  const [referenceTotal, liveTotal] = checkedTotals(reference, live);
  const grandTotal = referenceTotal + liveTotal;
  let statistic = 0;
  let nonEmptyBins = 0;
  for (let i = 0; i < reference.length; i++) {
    const column = reference[i]! + live[i]!;
    if (column === 0) continue;
    nonEmptyBins++;
    const expectedReference = (referenceTotal * column) / grandTotal;
    const expectedLive = (liveTotal * column) / grandTotal;
    statistic += (reference[i]! - expectedReference) ** 2 / expectedReference;
    statistic += (live[i]! - expectedLive) ** 2 / expectedLive;
  }
  const dof = nonEmptyBins - 1;
  return { statistic, dof, pValue: dof > 0 ? regularizedUpperGamma(dof / 2, statistic / 2) : 1 };
}
