// Distributions over bins, and the reference file's histograms as such.
//
// The reference's bin i is binEdges[i] < v <= binEdges[i+1] with open outer bins, so its interior
// edges are exactly the `le` bounds of the serving pods' histograms (serving-image/README.md) and of
// the modelops_reference_* gauges (contract C6), plus +Inf. Prometheus's side is turned into counts
// per bin by operator/src/prometheus (binCounts); the file's side here.
import type { HistogramCounts } from '../../prometheus/index.js';

/** One distribution over bins given by their upper bounds (the last is +Inf), as the Prometheus client reads them. */
export type Histogram = Pick<HistogramCounts, 'upperBounds' | 'counts'>;

/** The distributions of one version: per feature, and the predicted positive-class score. */
export interface Distributions {
  features: Map<string, Histogram>;
  prediction?: Histogram;
}

/** The reference file's histogram (k+1 edges, k counts) as upper edges and counts. */
export function binsFromEdges(binEdges: readonly number[], counts: readonly number[]): Histogram {
  if (binEdges.length !== counts.length + 1)
    throw new Error(`${binEdges.length} bin edges for ${counts.length} counts (want one more edge than counts)`);
  return { upperBounds: [...binEdges.slice(1, -1), Infinity], counts: [...counts] };
}

/** Whether two histograms have the same bins; `le` labels and JSON numbers may print a value differently. */
export function sameBins(a: Histogram, b: Histogram): boolean {
  return (
    a.upperBounds.length === b.upperBounds.length &&
    a.upperBounds.every((edge, i) => {
      const other = b.upperBounds[i]!;
      return edge === other || Math.abs(edge - other) <= 1e-9 * Math.max(Math.abs(edge), Math.abs(other));
    })
  );
}

export const total = (h: Histogram) => h.counts.reduce((sum, c) => sum + c, 0);

interface ReferenceFile {
  sampleCount: number;
  features: { name: string; binEdges: number[]; counts: number[] }[];
  prediction: { score: { binEdges: number[]; counts: number[] } };
}

/** A reference.json (training-image/reference.schema.json) as distributions; throws with what is wrong. */
export function distributionsFromReferenceFile(json: unknown): Distributions & { sampleCount: number } {
  const file = json as Partial<ReferenceFile>;
  if (file === null || typeof file !== 'object' || !Array.isArray(file.features) || !file.prediction?.score)
    throw new Error('not a reference distribution: want features[] and prediction.score');
  const features = new Map<string, Histogram>();
  for (const feature of file.features) {
    if (typeof feature?.name !== 'string' || !Array.isArray(feature.binEdges) || !Array.isArray(feature.counts))
      throw new Error('a feature needs name, binEdges and counts');
    features.set(feature.name, checked(feature.name, feature.binEdges, feature.counts));
  }
  const score = file.prediction.score;
  return {
    sampleCount: Number(file.sampleCount ?? 0),
    features,
    prediction: checked('prediction.score', score.binEdges, score.counts),
  };
}

function checked(name: string, binEdges: number[], counts: number[]): Histogram {
  try {
    return binsFromEdges(binEdges, counts);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`, { cause: err });
  }
}
