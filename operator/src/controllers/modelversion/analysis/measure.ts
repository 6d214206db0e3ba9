// The one side effect of the analysis: the queries of one window, run together against Prometheus.
// Any query that fails makes the whole measurement fail (PrometheusError): the caller holds the weights
// and reports Degraded rather than judging the canary on part of the evidence.
import { binCounts, type PrometheusClient, type Sample } from '../../../prometheus/index.js';
import type { Measurements, ResolvedAnalysis, VersionMeasurements } from './checks.js';
import { errorsQuery, p99Query, requestsQuery, scoresQuery, userQuery, type Target } from './queries.js';

export async function measure(
  client: PrometheusClient,
  target: Target,
  spec: ResolvedAnalysis,
  signal?: AbortSignal,
): Promise<Measurements> {
  const options = signal ? { signal } : {};
  const [requests, errors, p99, scores, ...user] = await Promise.all([
    client.query(requestsQuery(target), options),
    client.query(errorsQuery(target), options),
    client.query(p99Query(target), options),
    spec.predictionShift.enabled ? client.query(scoresQuery(target), options) : Promise.resolve([]),
    ...spec.queries.map((q) => client.query(userQuery(q.query, target), options)),
  ]);
  const forVersion = (version: string): VersionMeasurements => {
    const latency = valueOf(p99, version);
    const buckets = scores.filter((s) => s.labels.version === version);
    return {
      requests: valueOf(requests, version) ?? 0,
      errors: valueOf(errors, version) ?? 0,
      ...(latency !== undefined && Number.isFinite(latency) ? { p99Seconds: latency } : {}),
      ...(buckets.length ? { scores: binCounts(buckets) } : {}),
    };
  };
  return {
    windowSeconds: target.windowSeconds,
    canary: forVersion(target.canary),
    ...(target.stable ? { stable: forVersion(target.stable) } : {}),
    queries: Object.fromEntries(spec.queries.map((q, i) => [q.name, single(user[i]!)])),
  };
}

const valueOf = (samples: Sample[], version: string) => samples.find((s) => s.labels.version === version)?.value;

function single(samples: Sample[]): { value?: number; problem?: string } {
  if (samples.length === 0) return { problem: 'the query returned no data' };
  if (samples.length > 1) return { problem: `the query returned ${samples.length} series; a check needs one number` };
  return { value: samples[0]!.value };
}
