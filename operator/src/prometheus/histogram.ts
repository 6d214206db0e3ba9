// A Prometheus histogram's counts per bin over a window, for one model/version: what the statistics
// (PSI, JS, ...) compare. Prometheus buckets are cumulative (`le` = upper bound, "+Inf" last); a bin's
// count is the difference of two consecutive buckets.
import { matchers, parseValue, type PrometheusClient, type Sample } from './client.js';

export interface HistogramCounts {
  /** Upper bound of each bin (the `le` values, ascending; the last is Infinity). */
  upperBounds: number[];
  /** Observations per bin over the window (non-negative; increase() extrapolates, so not integers). */
  counts: number[];
  /** All observations in the window: the sum of counts. */
  total: number;
}

export interface HistogramQuery {
  /** The histogram's name without `_bucket`, e.g. modelops_prediction_score. */
  metric: string;
  /** Label matchers, e.g. {model: 'fraud', version: 'v2'}. */
  labels: Record<string, string>;
  windowSeconds: number;
  /** Labels to keep apart besides `le` (e.g. `feature`); none by default. */
  by?: string[];
  signal?: AbortSignal;
}

/** The PromQL of `readHistogram`: the increase of every bucket over the window, summed over pods. */
export function histogramQuery(q: Pick<HistogramQuery, 'metric' | 'labels' | 'windowSeconds' | 'by'>): string {
  const by = ['le', ...(q.by ?? [])].join(', ');
  return `sum by (${by}) (increase(${q.metric}_bucket${matchers(q.labels)}[${q.windowSeconds}s]))`;
}

/**
 * Counts per bin over the window, or undefined when Prometheus has no such series (the caller's
 * "not enough data"). With `by`, one histogram per combination of those labels, keyed by their values
 * joined with "/".
 */
export async function readHistogram(client: PrometheusClient, q: HistogramQuery): Promise<HistogramCounts | undefined> {
  const all = await readHistograms(client, q);
  return all.get(groupKey({}, q.by ?? []));
}

export async function readHistograms(
  client: PrometheusClient,
  q: HistogramQuery,
): Promise<Map<string, HistogramCounts>> {
  const samples = await client.query(histogramQuery(q), q.signal ? { signal: q.signal } : {});
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = groupKey(s.labels, q.by ?? []);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const result = new Map<string, HistogramCounts>();
  for (const [key, group] of groups) result.set(key, binCounts(group));
  return result;
}

const groupKey = (labels: Record<string, string>, by: string[]) => by.map((l) => labels[l] ?? '').join('/');

/** Cumulative bucket samples (any order) → counts per bin. Pure. */
export function binCounts(buckets: Sample[]): HistogramCounts {
  const sorted = buckets
    .map((s) => ({ le: parseValue(s.labels.le ?? 'NaN'), value: Number.isFinite(s.value) ? s.value : 0 }))
    .filter((b) => !Number.isNaN(b.le))
    .sort((a, b) => a.le - b.le);
  const counts: number[] = [];
  let previous = 0;
  for (const b of sorted) {
    // Buckets scraped a moment apart can be a hair out of order after extrapolation: never negative.
    counts.push(Math.max(0, b.value - previous));
    previous = Math.max(previous, b.value);
  }
  return { upperBounds: sorted.map((b) => b.le), counts, total: counts.reduce((a, b) => a + b, 0) };
}
