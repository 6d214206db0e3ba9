// Gathers what the verdict needs about each watched version: its live distributions over the window
// and its reference, from Prometheus (contracts C1, C5, C6) or from a reference.json at a URI. The
// edge of the DriftMonitor that does I/O; every failure becomes a Failure the verdict names.
import type { DriftMonitor, ModelVersion } from '../../api/index.js';
import {
  binCounts,
  matchers,
  readHistogram,
  readHistograms,
  type PrometheusClient,
  type Sample,
} from '../../prometheus/index.js';
import { distributionsFromReferenceFile, total, type Distributions, type Histogram } from './histograms.js';
import type { Failure, VersionEvidence } from './verdict.js';

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

/** The series of one version, as Prometheus labels them (C1: namespace, model and version), never by role. */
export const versionLabels = (namespace: string, model: string, version: string) => ({ namespace, model, version });

/** Every pod of a version loaded the same reference (C6 gauges); max() folds the pods into one. */
export function referenceQueries(labels: Record<string, string>) {
  const selector = matchers(labels);
  return {
    features: `max by (feature, le) (modelops_reference_feature_cumulative_count${selector})`,
    prediction: `max by (le) (modelops_reference_prediction_score_cumulative_count${selector})`,
  };
}

/** Cumulative samples of a query `by (feature, le)` → one histogram per feature. */
export function histogramsByFeature(samples: Sample[]): Map<string, Histogram> {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const feature = s.labels.feature;
    if (feature !== undefined) groups.set(feature, [...(groups.get(feature) ?? []), s]);
  }
  return new Map([...groups].map(([feature, buckets]) => [feature, binCounts(buckets)]));
}

async function liveDistributions(
  prometheus: PrometheusClient,
  labels: Record<string, string>,
  windowSeconds: number,
  signal: AbortSignal,
): Promise<Distributions> {
  const [features, prediction] = await Promise.all([
    readHistograms(prometheus, { metric: 'modelops_feature_value', labels, windowSeconds, by: ['feature'], signal }),
    readHistogram(prometheus, { metric: 'modelops_prediction_score', labels, windowSeconds, signal }),
  ]);
  return { features, ...(prediction ? { prediction } : {}) };
}

async function referenceDistributions(
  prometheus: PrometheusClient,
  labels: Record<string, string>,
  signal: AbortSignal,
): Promise<Distributions | Failure> {
  const q = referenceQueries(labels);
  const [features, prediction] = await Promise.all([
    prometheus.query(q.features, { signal }),
    prometheus.query(q.prediction, { signal }),
  ]);
  if (features.length === 0)
    return {
      error: `the serving pods of ${labels.model} ${labels.version} export no reference (modelops_reference_* series): they loaded none, or Prometheus has not scraped them yet`,
    };
  return {
    features: histogramsByFeature(features),
    ...(prediction.length ? { prediction: binCounts(prediction) } : {}),
  };
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
  prometheus: PrometheusClient;
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
      const labels = versionLabels(dm.metadata.namespace, dm.spec.model, version);
      const live = await attempt(async () => {
        const distributions = await liveDistributions(prometheus, labels, windowSeconds, signal);
        return { ...distributions, samples: samplesOf(distributions) };
      });
      const reference = fromUri ?? (await attempt(() => referenceDistributions(prometheus, labels, signal)));
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
