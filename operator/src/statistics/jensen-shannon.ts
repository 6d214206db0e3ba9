// Jensen-Shannon distance, base 2: the square root of the Jensen-Shannon divergence
// JSD(P, Q) = (KL(P || M) + KL(Q || M)) / 2 with M = (P + Q) / 2, logarithms base 2. It lies in
// [0, 1] (1: disjoint supports), is symmetric, a metric, and is finite with empty bins (0 log 0 = 0,
// and M is never zero where P or Q is not), so unlike PSI it needs no epsilon.
import { checkedTotals, proportions } from './binned.js';

export function jensenShannon(reference: readonly number[], live: readonly number[]): number {
  const [referenceTotal, liveTotal] = checkedTotals(reference, live);
  const p = proportions(reference, referenceTotal);
  const q = proportions(live, liveTotal);
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    divergence += halfKlTerm(p[i]!, m) + halfKlTerm(q[i]!, m);
  }
  // Rounding can leave a tiny negative divergence for identical inputs, or nudge it past 1.
  return Math.sqrt(Math.min(1, Math.max(0, divergence / Math.LN2)));
}

const halfKlTerm = (x: number, m: number) => (x > 0 ? (x * Math.log(x / m)) / 2 : 0);
