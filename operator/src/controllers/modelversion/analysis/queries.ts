// The PromQL behind the analysis, pure. Versions are selected by the serving metrics' own labels
// (contract C1: model, version, and the namespace Prometheus's Kubernetes discovery adds), never by
// `role`: a promoted canary's pods keep role="canary".
import { matchers } from '../../../prometheus/index.js';

export const METRICS = {
  requests: 'modelops_inference_requests_total',
  duration: 'modelops_inference_request_duration_seconds',
  score: 'modelops_prediction_score',
} as const;

/** Which versions of which model, over which window. */
export interface Target {
  namespace: string;
  model: string;
  canary: string;
  stable?: string;
  windowSeconds: number;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Both versions in one selector, so one query answers for the canary and the stable over the same window. */
export function versionsSelector(t: Target, extra = ''): string {
  const versions = [t.canary, ...(t.stable ? [t.stable] : [])].map(escapeRegex).join('|');
  const base = matchers({ namespace: t.namespace, model: t.model }).slice(0, -1);
  return `${base},version=~"${versions.replace(/\\/g, '\\\\')}"${extra}}`;
}

const window = (t: Target) => `${t.windowSeconds}s`;

/** Inference requests per version in the window (every status code; 499 is a client that left). */
export const requestsQuery = (t: Target) =>
  `sum by (version) (increase(${METRICS.requests}${versionsSelector(t)}[${window(t)}]))`;

/** 5xx answers per version in the window. */
export const errorsQuery = (t: Target) =>
  `sum by (version) (increase(${METRICS.requests}${versionsSelector(t, ',code=~"5.."')}[${window(t)}]))`;

/** p99 latency per version in seconds (NaN when a version served nothing). */
export const p99Query = (t: Target) =>
  `histogram_quantile(0.99, sum by (version, le) (rate(${METRICS.duration}_bucket${versionsSelector(t)}[${window(t)}])))`;

/** Prediction-score histogram buckets per version in the window. */
export const scoresQuery = (t: Target) =>
  `sum by (version, le) (increase(${METRICS.score}_bucket${versionsSelector(t)}[${window(t)}]))`;

/** A user check's PromQL with ${model}, ${version}, ${stableVersion}, ${namespace} and ${window} filled in. */
export function userQuery(query: string, t: Target): string {
  const values: Record<string, string> = {
    model: t.model,
    version: t.canary,
    stableVersion: t.stable ?? '',
    namespace: t.namespace,
    window: window(t),
  };
  return query.replace(/\$\{(model|version|stableVersion|namespace|window)\}/g, (_m, name: string) => values[name]!);
}
