import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { driftMonitor, modelVersion } from './fixtures.test-helpers.js';
import type { PrometheusClient, Sample } from '../../prometheus/index.js';
import {
  gatherEvidence,
  histogramsByFeature,
  httpReferenceFetcher,
  referenceQueries,
  samplesOf,
  versionLabels,
  watchedVersions,
} from './gather.js';

const stable = modelVersion('fraud-v1', 'v1', { role: 'stable', phase: 'Serving' });
const canary = modelVersion('fraud-v2', 'v2', { role: 'canary', phase: 'Canary' });
const retired = modelVersion('fraud-v0', 'v0', { role: 'none', phase: 'Superseded' });
const otherModel = { ...modelVersion('churn-v1', 'v1', { role: 'stable' }), spec: { ...stable.spec, model: 'churn' } };

describe('watchedVersions', () => {
  test.each([
    ['Stable', ['fraud-v1:stable']],
    ['Canary', ['fraud-v2:canary']],
    ['Both', ['fraud-v1:stable', 'fraud-v2:canary']],
  ] as const)('%s', (versions, expected) => {
    const watched = watchedVersions(driftMonitor({ versions }), [retired, canary, otherModel, stable]);
    expect(watched.map((w) => `${w.modelVersion.metadata.name}:${w.role}`)).toEqual(expected);
  });

  test('no rollout in progress: Both watches the stable version alone', () => {
    expect(watchedVersions(driftMonitor({ versions: 'Both' }), [stable, retired]).map((w) => w.role)).toEqual([
      'stable',
    ]);
  });

  const names = (watched: ReturnType<typeof watchedVersions>) => watched.map((w) => w.modelVersion.metadata.name);

  test('versions not set: the stable one alone', () => {
    expect(names(watchedVersions(driftMonitor(), [canary, stable]))).toEqual(['fraud-v1']);
  });

  test('a version just created, without a status yet, is not watched', () => {
    // Named to sort first: it is looked at before the stable one.
    const created = { ...modelVersion('fraud-v0', 'v0'), status: undefined };
    expect(names(watchedVersions(driftMonitor({ versions: 'Both' }), [created, stable]))).toEqual(['fraud-v1']);
  });

  test('two versions in one role for a moment (a promotion being written): the first by name, in any list order', () => {
    const promoted = modelVersion('fraud-v2', 'v2', { role: 'stable', phase: 'Serving' });
    expect(names(watchedVersions(driftMonitor(), [promoted, stable]))).toEqual(['fraud-v1']);
    expect(names(watchedVersions(driftMonitor(), [stable, promoted]))).toEqual(['fraud-v1']);
  });
});

describe('PromQL', () => {
  test('the reference gauges of one version, by namespace, model and version (C1), never by role', () => {
    expect(referenceQueries(versionLabels('ml', 'fraud', 'v1.0'))).toEqual({
      features:
        'max by (feature, le) (modelops_reference_feature_cumulative_count{namespace="ml",model="fraud",version="v1.0"})',
      prediction:
        'max by (le) (modelops_reference_prediction_score_cumulative_count{namespace="ml",model="fraud",version="v1.0"})',
    });
  });

  test('bucket samples by feature become one histogram per feature', () => {
    const samples: Sample[] = [
      { labels: { feature: 'amount', le: '+Inf' }, value: 10 },
      { labels: { feature: 'amount', le: '5' }, value: 4 },
      { labels: { feature: 'age', le: '+Inf' }, value: 3 },
      // A series without a feature label (not of a query by feature) is no feature's.
      { labels: { le: '+Inf' }, value: 7 },
    ];
    expect(histogramsByFeature(samples)).toEqual(
      new Map([
        ['amount', { upperBounds: [5, Infinity], counts: [4, 6], total: 10 }],
        ['age', { upperBounds: [Infinity], counts: [3], total: 3 }],
      ]),
    );
  });
});

/** Answers each query from a table keyed by the metric name it reads; a missing one answers nothing. */
function prometheus(table: Record<string, { labels: Record<string, string>; value: number }[]>): PrometheusClient {
  return {
    url: 'http://prom:9090',
    queryRange: notUsed,
    async query(expr) {
      const metric = Object.keys(table).find((m) => expr.includes(`${m}_bucket{`) || expr.includes(`${m}{`));
      return metric ? table[metric]! : [];
    },
  };
}
const buckets = (feature: string | undefined, values: [string, number][]) =>
  values.map(([le, value]) => ({ labels: { ...(feature ? { feature } : {}), le }, value }));
const signal = new AbortController().signal;
const notUsed = async (): Promise<never> => {
  throw new Error('the DriftMonitor makes instant queries only');
};
const noFetch = async () => {
  throw new Error('not fetched');
};

describe('gatherEvidence', () => {
  test("each version's live window and its own reference from Prometheus", async () => {
    const source = prometheus({
      modelops_feature_value: buckets('amount', [
        ['1', 30],
        ['+Inf', 100],
      ]),
      modelops_prediction_score: buckets(undefined, [
        ['0.5', 90],
        ['+Inf', 120],
      ]),
      modelops_reference_feature_cumulative_count: buckets('amount', [
        ['1', 50],
        ['+Inf', 100],
      ]),
      modelops_reference_prediction_score_cumulative_count: buckets(undefined, [
        ['0.5', 99],
        ['+Inf', 100],
      ]),
    });
    const [evidence] = await gatherEvidence({ prometheus: source, fetchReference: noFetch, signal }, driftMonitor(), [
      { modelVersion: stable, role: 'stable' },
    ]);
    expect(evidence).toEqual({
      version: 'v1',
      modelVersion: 'fraud-v1',
      role: 'stable',
      live: {
        samples: 120,
        features: new Map([['amount', { upperBounds: [1, Infinity], counts: [30, 70], total: 100 }]]),
        prediction: { upperBounds: [0.5, Infinity], counts: [90, 30], total: 120 },
      },
      reference: {
        features: new Map([['amount', { upperBounds: [1, Infinity], counts: [50, 50], total: 100 }]]),
        prediction: { upperBounds: [0.5, Infinity], counts: [99, 1], total: 100 },
      },
    });
  });

  test('pods that export no reference, and a Prometheus that fails, are named', async () => {
    const failing: PrometheusClient = {
      url: 'http://p:9090',
      queryRange: notUsed,
      async query(expr) {
        if (expr.includes('increase'))
          throw new Error('Prometheus http://p:9090: unreachable for query `...`: ECONNREFUSED');
        return [];
      },
    };
    const [evidence] = await gatherEvidence({ prometheus: failing, fetchReference: noFetch, signal }, driftMonitor(), [
      { modelVersion: stable, role: 'stable' },
    ]);
    expect(evidence!.live).toEqual({ error: expect.stringMatching(/ECONNREFUSED/) });
    expect(evidence!.reference).toEqual({
      error: expect.stringMatching(/serving pods of fraud v1 export no reference/),
    });
  });
});

describe("what Prometheus is asked, and the window's samples", () => {
  test("every query carries the reconcile's signal and the monitor's window, 1 h unless set", async () => {
    const asked: { expr: string; signal?: AbortSignal }[] = [];
    const recording: PrometheusClient = {
      url: 'http://p:9090',
      queryRange: notUsed,
      async query(expr, options) {
        asked.push({ expr, signal: options?.signal });
        return [];
      },
    };
    const watched = [{ modelVersion: stable, role: 'stable' as const }];
    await gatherEvidence({ prometheus: recording, fetchReference: noFetch, signal }, driftMonitor(), watched);
    expect(asked).toHaveLength(4);
    expect(asked.filter((q) => q.signal === signal)).toHaveLength(4);
    expect(asked.filter((q) => q.expr.includes('increase(')).map((q) => /\[(\d+)s\]/.exec(q.expr)?.[1])).toEqual([
      '3600',
      '3600',
    ]);

    asked.length = 0;
    await gatherEvidence(
      { prometheus: recording, fetchReference: noFetch, signal },
      driftMonitor({ windowSeconds: 600 }),
      watched,
    );
    expect(asked.filter((q) => q.expr.includes('[600s]'))).toHaveLength(2);
  });

  const histogram = (total: number) => ({ upperBounds: [Infinity], counts: [total], total });
  test.each([
    ['the prediction histogram counts every prediction', new Map([['amount', histogram(80)]]), histogram(120), 120],
    [
      'without it, the largest feature total',
      new Map([
        ['amount', histogram(80)],
        ['age', histogram(95)],
      ]),
      undefined,
      95,
    ],
    ['nothing observed', new Map(), undefined, 0],
  ])('samplesOf: %s', (_case, features, prediction, samples) => {
    expect(samplesOf({ features, ...(prediction ? { prediction } : {}) })).toBe(samples);
  });
});

describe('a reference given by URI', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/reference.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            sampleCount: 100,
            features: [{ name: 'amount', binEdges: [0, 1, 9], counts: [50, 50] }],
            prediction: { score: { binEdges: [0, 0.5, 1], counts: [99, 1] } },
          }),
        );
      } else if (req.url === '/never') {
        // Headers never come: only the fetcher's deadline or the caller's signal ends the wait.
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });

  test('is fetched over HTTP and used for every version', async () => {
    const dm = driftMonitor({ versions: 'Both', reference: { uri: `${base}/reference.json` } });
    const evidence = await gatherEvidence(
      { prometheus: prometheus({}), fetchReference: httpReferenceFetcher(), signal },
      dm,
      [
        { modelVersion: stable, role: 'stable' },
        { modelVersion: canary, role: 'canary' },
      ],
    );
    for (const e of evidence)
      expect(e.reference).toEqual({
        sampleCount: 100,
        features: new Map([['amount', { upperBounds: [1, Infinity], counts: [50, 50] }]]),
        prediction: { upperBounds: [0.5, Infinity], counts: [99, 1] },
      });
  });

  test("a server that never answers: the fetcher's deadline, or the reconcile's signal, ends the wait", async () => {
    await expect(httpReferenceFetcher(50)(`${base}/never`, signal)).rejects.toThrow(/timeout/i);
    const cancelled = new AbortController();
    const fetching = httpReferenceFetcher()(`${base}/never`, cancelled.signal);
    cancelled.abort(new Error('reconcile cancelled'));
    await expect(fetching).rejects.toThrow('reconcile cancelled');
  });

  test('a missing file says which URI and what the server answered', async () => {
    const dm = driftMonitor({ reference: { uri: `${base}/missing.json` } });
    const [evidence] = await gatherEvidence(
      { prometheus: prometheus({}), fetchReference: httpReferenceFetcher(), signal },
      dm,
      [{ modelVersion: stable, role: 'stable' }],
    );
    expect(evidence!.reference).toEqual({ error: `reference ${base}/missing.json: HTTP 404 Not Found` });
  });
});
