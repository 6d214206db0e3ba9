// Kolmogorov-Smirnov statistic on binned distributions.
//
// The operator never sees single observations, only counts per bin (Prometheus histogram buckets),
// so this is the largest distance between the two *binned* CDFs, evaluated at the bin edges. Against
// the continuous two-sample statistic D = sup_x |F_ref(x) - F_live(x)| computed from the raw values:
// - it is a lower bound: the supremum over the edges is at most the supremum over all x, and equals
//   it when the two CDFs part most at an edge; a shift that stays inside one bin is invisible;
// - it equals scipy.stats.ks_2samp's statistic on samples that put every value at its bin's index
//   (that is how its tests check it);
// - the KS p-value tables assume continuous, tie-free data; binned data is all ties, so no p-value
//   is given: the statistic is used as a distance in [0, 1] with thresholds, like PSI.
import { checkedTotals } from './binned.js';

export function ksBinned(reference: readonly number[], live: readonly number[]): number {
  const [referenceTotal, liveTotal] = checkedTotals(reference, live);
  let cumulativeReference = 0;
  let cumulativeLive = 0;
  let distance = 0;
  for (let i = 0; i < reference.length; i++) {
    cumulativeReference += reference[i]!;
    cumulativeLive += live[i]!;
    distance = Math.max(distance, Math.abs(cumulativeReference / referenceTotal - cumulativeLive / liveTotal));
  }
  return distance;
}
