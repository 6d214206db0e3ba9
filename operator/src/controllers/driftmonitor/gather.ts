// Gathers what the verdict needs about each watched version: its live distributions over the window
// and its reference, from Prometheus (contracts C1, C5, C6) or from a reference.json at a URI. The
// edge of the DriftMonitor that does I/O; every failure becomes a Failure the verdict names.
import type { DriftMonitor, ModelVersion } from '../../api/index.js';
import {
  binsFromCumulative,
  distributionsFromReferenceFile,
  total,
  type Distributions,
  type Histogram,
} from './histograms.js';
import type { Failure, VersionEvidence } from './verdict.js';

/** The instant queries this needs from the Prometheus client (operator/src/prometheus). */
export interface PrometheusQueries {
  query(expr: string, options?: { signal?: AbortSignal }): Promise<{ labels: Record<string, string>; value: number }[]>;
}

export type ReferenceFetcher = (uri: string, signal: AbortSignal) => Promise<unknown>;

export interface WatchedVersion {
  modelVersion: ModelVersion;
  role: 'stable' | 'canary';
}

/** The versions to judge: the stable one, the canary of a rollout in progress, or both. */
export function watchedVersions(dm: DriftMonitor, versions: ModelVersion[]): WatchedVersion[] {
  const ofModel = versions
    .filter((mv) => mv.spec.model === dm.spec.model && !mv.metadata.deletionTimestamp)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const which = dm.spec.versions ?? 'Stable';
  const stable = ofModel.find((mv) => mv.status?.role === 'stable');
  const canary = ofModel.find((mv) => mv.status?.role === 'canary');
  const watched: WatchedVersion[] = [];
  if (stable && which !== 'Canary') watched.push({ modelVersion: stable, role: 'stable' });
  if (canary && which !== 'Stable') watched.push({ modelVersion: canary, role: 'canary' });
  return watched;
}

/** The series of one version, as Prometheus labels them (C1: namespace, model and version). */
export const versionSelector = (namespace: string, model: string, version: string) =>
  `{namespace=${quote(namespace)},model=${quote(model)},version=${quote(version)}}`;

const quote = (s: string) => JSON.stringify(s);

export function liveQueries(selector: string, windowSeconds: number) {
  return {
    features: `sum by (feature, le) (increase(modelops_feature_value_bucket${selector}[${windowSeconds}s]))`,
    prediction: `sum by (le) (increase(modelops_prediction_score_bucket${selector}[${windowSeconds}s]))`,
  };
}

/** Every pod of a version loaded the same reference; max() folds the pods into one. */
export function referenceQueries(selector: string) {
  return {
    features: `max by (feature, le) (modelops_reference_feature_cumulative_count${selector})`,
    prediction: `max by (le) (modelops_reference_prediction_score_cumulative_count${selector})`,
  };
}

type Samples = Awaited<ReturnType<PrometheusQueries['query']>>;

/** Bucket samples of a query `by (feature, le)` → one histogram per feature. */
export function histogramsByFeature(samples: Samples): Map<string, Histogram> {
  const groups = new Map<string, { le: string; value: number }[]>();
  for (const s of samples) {
    const feature = s.labels.feature;
    const le = s.labels.le;
    if (feature === undefined || le === undefined) continue;
    groups.set(feature, [...(groups.get(feature) ?? []), { le, value: s.value }]);
  }
  return new Map([...groups].map(([feature, buckets]) => [feature, binsFromCumulative(buckets)]));
}

function histogramOf(samples: Samples): Histogram | undefined {
  const buckets = samples.flatMap((s) => (s.labels.le === undefined ? [] : [{ le: s.labels.le, value: s.value }]));
  return buckets.length ? binsFromCumulative(buckets) : undefined;
}

function distributionsOf(features: Samples, prediction: Samples): Distributions {
  const histogram = histogramOf(prediction);
  return { features: histogramsByFeature(features), ...(histogram ? { prediction: histogram } : {}) };
}

/** Predictions in the window: the prediction histogram's total, else the largest feature total. */
export function samplesOf(live: Distributions): number {
  if (live.prediction) return total(live.prediction);
  return Math.max(0, ...[...live.features.values()].map(total));
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function attempt<T extends object>(work: () => Promise<T | Failure>): Promise<T | Failure> {
  try {
    return await work();
  } catch (err) {
    return { error: message(err) };
  }
}

export interface GatherDeps {
  prometheus: PrometheusQueries;
  fetchReference: ReferenceFetcher;
  signal: AbortSignal;
}

export async function gatherEvidence(
  deps: GatherDeps,
  dm: DriftMonitor,
  watched: WatchedVersion[],
): Promise<VersionEvidence[]> {
  const { prometheus, signal } = deps;
  const windowSeconds = dm.spec.windowSeconds ?? 3600;
  const uri = dm.spec.reference?.uri;
  const fromUri = uri
    ? await attempt(async () => distributionsFromReferenceFile(await deps.fetchReference(uri, signal)))
    : undefined;
  if (fromUri && 'error' in fromUri) fromUri.error = `reference ${uri}: ${fromUri.error}`;

  return Promise.all(
    watched.map(async ({ modelVersion, role }) => {
      const version = modelVersion.spec.version;
      const selector = versionSelector(dm.metadata.namespace, dm.spec.model, version);
      const query = (expr: string) => prometheus.query(expr, { signal });

      const live = await attempt(async () => {
        const q = liveQueries(selector, windowSeconds);
        const [features, prediction] = await Promise.all([query(q.features), query(q.prediction)]);
        const distributions = distributionsOf(features, prediction);
        return { ...distributions, samples: samplesOf(distributions) };
      });
      const reference =
        fromUri ??
        (await attempt<Distributions>(async () => {
          const q = referenceQueries(selector);
          const [features, prediction] = await Promise.all([query(q.features), query(q.prediction)]);
          if (features.length === 0)
            return {
              error: `the serving pods of ${dm.spec.model} ${version} export no reference (modelops_reference_* series): they loaded none, or Prometheus has not scraped them yet`,
            };
          return distributionsOf(features, prediction);
        }));
      return { version, modelVersion: modelVersion.metadata.name, role, reference, live };
    }),
  );
}

/** Fetches a reference.json over http(s), with a deadline and the reconcile's AbortSignal. */
export function httpReferenceFetcher(timeoutMs = 10_000): ReferenceFetcher {
  return async (uri, signal) => {
    const response = await fetch(uri, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    return response.json();
  };
}
