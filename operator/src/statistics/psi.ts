// Population stability index: sum over bins of (live - reference) * ln(live / reference), on the
// proportions. It is the symmetric Kullback-Leibler divergence (Jeffreys divergence) of the two
// binned distributions; common reading: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
import { checkedTotals, proportions } from './binned.js';

/**
 * The proportion an empty bin is taken to hold. PSI is infinite when a bin is empty on one side
 * only, so the usual convention (Evidently's, among others) replaces proportions below epsilon by
 * epsilon, without renormalising. With 1e-4 a bin that holds share s on one side and nothing on the
 * other adds s * ln(s / 1e-4), e.g. 0.1 * ln(1000) = 0.69 for a 10 % bin: a clear breach, not an
 * infinity. A bin empty on both sides adds nothing. Smaller epsilons make empty bins weigh more.
 */
export const PSI_EPSILON = 1e-4;

export function psi(reference: readonly number[], live: readonly number[], options: { epsilon?: number } = {}): number {
  const epsilon = options.epsilon ?? PSI_EPSILON;
  if (!(epsilon > 0 && epsilon < 1)) throw new RangeError(`epsilon must be in (0, 1), got ${epsilon}`);
  const [referenceTotal, liveTotal] = checkedTotals(reference, live);
  const expected = proportions(reference, referenceTotal);
  const actual = proportions(live, liveTotal);
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]!, epsilon);
    const a = Math.max(actual[i]!, epsilon);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}
