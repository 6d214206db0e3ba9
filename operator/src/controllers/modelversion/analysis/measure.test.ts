import type { PrometheusClient, Sample } from '../../../prometheus/index.js';
import { PrometheusError } from '../../../prometheus/index.js';
import { resolveAnalysis } from './checks.js';
import { measure } from './measure.js';
import { errorsQuery, p99Query, requestsQuery, scoresQuery, type Target } from './queries.js';

const target: Target = { namespace: 'ml', model: 'fraud', canary: 'v2', stable: 'v1', windowSeconds: 30 };

/** A PrometheusClient answering from a table of query → samples (the HTTP client has its own tests). */
function answering(table: Record<string, Sample[]>): PrometheusClient & { asked: string[] } {
  const asked: string[] = [];
  return {
    url: 'http://prometheus.test',
    asked,
    async query(expr) {
      asked.push(expr);
      const samples = table[expr];
      if (!samples) throw new PrometheusError('query', 'http://prometheus.test', expr, 'unknown query');
      return samples;
    },
    async queryRange() {
      throw new Error('not used');
    },
  };
}

const v = (version: string, value: number, extra: Record<string, string> = {}) => ({
  labels: { version, ...extra },
  value,
});

test('one window, both versions: requests, errors, p99, score histograms and the user queries', async () => {
  const spec = resolveAnalysis({
    queries: [
      { name: 'positives', query: 'sum(x{version="${version}"})', max: 1 },
      { name: 'split', query: 'y', max: 1 },
    ],
  });
  const client = answering({
    [requestsQuery(target)]: [v('v2', 120), v('v1', 2400)],
    [errorsQuery(target)]: [v('v2', 6)],
    [p99Query(target)]: [v('v2', 0.012), v('v1', NaN)],
    [scoresQuery(target)]: [
      v('v2', 3, { le: '0.5' }),
      v('v2', 10, { le: '+Inf' }),
      v('v1', 50, { le: '0.5' }),
      v('v1', 60, { le: '+Inf' }),
    ],
    'sum(x{version="v2"})': [v('v2', 0.02)],
    y: [v('a', 1), v('b', 2)],
  });
  const m = await measure(client, target, spec);
  expect(m).toEqual({
    windowSeconds: 30,
    canary: {
      requests: 120,
      errors: 6,
      p99Seconds: 0.012,
      scores: { upperBounds: [0.5, Infinity], counts: [3, 7], total: 10 },
    },
    stable: { requests: 2400, errors: 0, scores: { upperBounds: [0.5, Infinity], counts: [50, 10], total: 60 } },
    queries: {
      positives: { value: 0.02 },
      split: { problem: 'the query returned 2 series; a check needs one number' },
    },
  });
});

test('a failing query fails the whole measurement with its error; no score query when the ML check is off', async () => {
  const spec = resolveAnalysis({ predictionShift: { enabled: false } });
  const client = answering({ [requestsQuery(target)]: [], [errorsQuery(target)]: [] });
  await expect(measure(client, target, spec)).rejects.toThrow(/query failed for query `histogram_quantile/);
  expect(client.asked).not.toContain(scoresQuery(target));
});

test('a canary alone (no stable yet): its own numbers only; an empty user query is a problem, not a zero', async () => {
  const canaryOnly: Target = { namespace: 'ml', model: 'fraud', canary: 'v2', windowSeconds: 30 };
  const spec = resolveAnalysis({ queries: [{ name: 'positives', query: 'z', max: 1 }] });
  const options: unknown[] = [];
  const client = answering({
    [requestsQuery(canaryOnly)]: [v('v2', 50)],
    [errorsQuery(canaryOnly)]: [],
    [p99Query(canaryOnly)]: [v('v2', Infinity)],
    [scoresQuery(canaryOnly)]: [],
    z: [],
  });
  const query = client.query.bind(client);
  client.query = async (expr, opts) => (options.push(opts), query(expr, opts));
  const signal = new AbortController().signal;
  expect(await measure(client, canaryOnly, spec, signal)).toEqual({
    windowSeconds: 30,
    canary: { requests: 50, errors: 0 },
    queries: { positives: { problem: 'the query returned no data' } },
  });
  expect(options).toEqual(new Array(5).fill({ signal }));
  options.length = 0;
  await measure(client, canaryOnly, spec);
  expect(options).toEqual(new Array(5).fill({}));
});

test('with the ML check off, no score query and no score histograms', async () => {
  const spec = resolveAnalysis({ predictionShift: { enabled: false } });
  const client = answering({
    [requestsQuery(target)]: [v('v2', 120), v('v1', 2400)],
    [errorsQuery(target)]: [],
    [p99Query(target)]: [v('v2', 0.01), v('v1', 0.02)],
  });
  expect(await measure(client, target, spec)).toEqual({
    windowSeconds: 30,
    canary: { requests: 120, errors: 0, p99Seconds: 0.01 },
    stable: { requests: 2400, errors: 0, p99Seconds: 0.02 },
    queries: {},
  });
  expect(client.asked).toHaveLength(3);
});
