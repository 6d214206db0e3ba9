// Input checks and normalisation shared by the drift statistics. Every statistic compares two
// histograms over the same bins, given as counts per bin (any non-negative numbers: counts, weights,
// or increases read from Prometheus, which may be fractional).

/** The caller's "not enough data": a histogram with nothing in it has no distribution to compare. */
export class EmptyDistributionError extends RangeError {
  constructor(which: 'reference' | 'live') {
    super(`the ${which} histogram is empty (no counts): there is nothing to compare`);
    this.name = 'EmptyDistributionError';
  }
}

/** Checks both histograms and returns their totals; throws on bad input rather than returning a number. */
export function checkedTotals(reference: readonly number[], live: readonly number[]): [number, number] {
  if (reference.length !== live.length)
    throw new RangeError(`the histograms have different bins: ${reference.length} reference, ${live.length} live`);
  return [total(reference, 'reference'), total(live, 'live')];
}

function total(counts: readonly number[], which: 'reference' | 'live'): number {
  let sum = 0;
  for (const [i, c] of counts.entries()) {
    if (!Number.isFinite(c) || c < 0) throw new RangeError(`${which} bin ${i} has count ${c}: counts must be >= 0`);
    sum += c;
  }
  if (sum === 0) throw new EmptyDistributionError(which);
  return sum;
}

export function proportions(counts: readonly number[], sum: number): number[] {
  return counts.map((c) => c / sum);
}
