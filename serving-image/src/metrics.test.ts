import { parseExposition } from '../test/harness.js';
import { AggregatorRegistry } from 'prom-client';
import { HistogramSeries, METRIC_NAMES, ServingMetrics } from './metrics.js';
import type { LoadedModel } from './model/loaded-model.js';
import type { Tensor } from './model/tensor.js';
import type { Reference } from './reference.js';

test("a value equal to a bound lands in that bound's bucket, as Prometheus `le` says", async () => {
  const series = new HistogramSeries({ feature: 'amount' }, [1, 2, 5]);
  for (const value of [0, 1, 1.5, 2, 5, 6, NaN, Infinity]) series.observe(value);
  const values: { metricName?: string; labels: Record<string, string | number>; value: number }[] = [];
  series.exposition('h', values);
  expect(values.map((v) => [v.metricName, v.labels.le, v.value])).toEqual([
    ['h_bucket', 1, 2],
    ['h_bucket', 2, 4],
    ['h_bucket', 5, 5],
    ['h_bucket', '+Inf', 7],
    ['h_sum', undefined, Infinity],
    ['h_count', undefined, 7],
  ]);
  expect(values[0]!.labels.feature).toBe('amount');
});

const reference = (scale: number) =>
  ({
    sampleCount: 6 * scale,
    input: { name: 'x', datatype: 'FP32' },
    features: [
      { name: 'a', binEdges: [0, 1, 2, 3], counts: [1, 2, 3].map((c) => c * scale), mean: 0, std: 1 },
      { name: 'b', binEdges: [-5, 5], counts: [6 * scale], mean: 0, std: 1 },
    ],
    prediction: {
      output: 'p',
      classes: ['no', 'yes'],
      classCounts: [3, 3],
      score: { binEdges: [0, 0.5, 1], counts: [4, 2].map((c) => c * scale) },
    },
  }) as unknown as Reference;
/** A model whose inputs and outputs have these names; the reference's are x and p. */
const model = (ref: Reference | undefined, inputs = ['x'], outputs = ['p']) =>
  ({
    reference: ref,
    signature: {
      inputs: inputs.map((name) => ({ name, datatype: 'FP32', shape: [-1, 2] })),
      outputs: outputs.map((name) => ({ name, datatype: 'FP32', shape: [-1, 2] })),
      batchable: true,
    },
  }) as unknown as LoadedModel;
const servingMetrics = (maxBatchSize = 8) =>
  new ServingMetrics({ model: 'm', version: '1', role: 'stable', maxBatchSize });
const samples = async (metrics: ServingMetrics, prefix: string) =>
  parseExposition(await metrics.registry.metrics()).filter((s) => s.name.startsWith(prefix));

describe('the exposition', () => {
  /** Each family's TYPE and HELP, from the `# TYPE` and `# HELP` lines. */
  const descriptions = async (metrics: ServingMetrics) => {
    const text = await metrics.registry.metrics();
    const described = new Map<string, { type?: string; help?: string }>();
    for (const [, kind, name, description] of text.matchAll(/^# (TYPE|HELP) (\S+) ?(.*)$/gm)) {
      const family = described.get(name!) ?? {};
      family[kind === 'TYPE' ? 'type' : 'help'] = description!;
      described.set(name!, family);
    }
    return described;
  };

  test.each([
    [METRIC_NAMES.requests, 'counter'],
    [METRIC_NAMES.authFailures, 'counter'],
    [METRIC_NAMES.duration, 'histogram'],
    [METRIC_NAMES.batchSize, 'histogram'],
    [METRIC_NAMES.predictions, 'counter'],
    [METRIC_NAMES.featureValue, 'histogram'],
    [METRIC_NAMES.score, 'histogram'],
    [METRIC_NAMES.referenceFeature, 'gauge'],
    [METRIC_NAMES.referenceScore, 'gauge'],
    [METRIC_NAMES.referenceSamples, 'gauge'],
  ])('%s is a %s and says what it measures', async (name, type) => {
    const described = await descriptions(servingMetrics());
    expect(described.get(name)).toEqual({ type, help: expect.stringMatching(/\w/) });
  });

  test.each([
    [1, ['1', '+Inf']],
    [6, ['1', '2', '4', '8', '+Inf']],
    [8, ['1', '2', '4', '8', '+Inf']],
  ])(
    'at most %i rows a batch: the batch size buckets are the powers of two up to the first at or above it, %j',
    async (maxBatchSize, les) => {
      const buckets = await samples(servingMetrics(maxBatchSize), `${METRIC_NAMES.batchSize}_bucket`);
      expect(buckets.map((s) => s.labels.le)).toEqual(les);
    },
  );
});

describe('the loaded reference as gauges (contract C6)', () => {
  const gauges = async (metrics: ServingMetrics) =>
    parseExposition(await metrics.registry.metrics())
      .filter((s) => s.name.startsWith('modelops_reference_'))
      .map((s) => [s.name.replace('modelops_reference_', ''), s.labels.feature, s.labels.le, s.value]);

  test('cumulative counts at the live histograms’ le values, absent without a reference, replaced on every load', async () => {
    const metrics = servingMetrics();
    expect(await gauges(metrics)).toEqual([]);
    metrics.modelLoaded(model(reference(1)), '1');
    expect(await gauges(metrics)).toEqual([
      ['feature_cumulative_count', 'a', '1', 1],
      ['feature_cumulative_count', 'a', '2', 3],
      ['feature_cumulative_count', 'a', '+Inf', 6],
      ['feature_cumulative_count', 'b', '+Inf', 6],
      ['prediction_score_cumulative_count', undefined, '0.5', 4],
      ['prediction_score_cumulative_count', undefined, '+Inf', 6],
      ['sample_count', undefined, undefined, 6],
    ]);
    // Same buckets, other counts: the live histograms keep counting, the reference gauges follow the new file.
    metrics.modelLoaded(model(reference(10)), '1');
    expect((await gauges(metrics)).map((g) => g[3])).toEqual([10, 30, 60, 60, 40, 60, 60]);
    metrics.modelLoaded(model(undefined), '1');
    expect(await gauges(metrics)).toEqual([]);
  });
});

describe('live series', () => {
  const tensor = (values: number[]) => ({ data: Float32Array.from(values) }) as unknown as Tensor;

  test("each row's features land in their own histograms; the first of equal probabilities is the predicted class", async () => {
    const metrics = servingMetrics();
    const served = model(reference(1));
    metrics.modelLoaded(served, '1');
    // Two rows of features (a, b) and of class probabilities (no, yes); the first row's classes tie.
    metrics.inferred(served, [tensor([0.5, -1, 2.5, 4])], [tensor([0.5, 0.5, 0.2, 0.8])]);
    const sums = (await samples(metrics, 'modelops_feature_value_sum')).map((s) => [s.labels.feature, s.value]);
    expect(sums).toEqual([
      ['a', 3],
      ['b', 3],
    ]);
    const predicted = (await samples(metrics, 'modelops_predictions_total')).map((s) => [s.labels.class, s.value]);
    expect(predicted).toEqual([
      ['no', 1],
      ['yes', 1],
    ]);
    const score = await samples(metrics, 'modelops_prediction_score_sum');
    expect(score.map((s) => s.value)).toEqual([Math.fround(0.5) + Math.fround(0.8)]); // the last class, as FP32
  });

  /** The feature, score and prediction series, without the default labels. */
  const driftSeries = async (metrics: ServingMetrics) =>
    (await samples(metrics, 'modelops_'))
      .filter((s) =>
        [METRIC_NAMES.featureValue, METRIC_NAMES.score, METRIC_NAMES.predictions].some((n) => s.name.startsWith(n)),
      )
      .map((s) => [s.name, s.labels.feature ?? s.labels.class, s.labels.le, s.value]);

  test.each<[string, (ref: Reference) => Reference | undefined]>([
    [
      'other feature bin edges',
      (ref) => {
        ref.features[0]!.binEdges = [0, 10, 20];
        ref.features[0]!.counts = [3, 3];
        return ref;
      },
    ],
    [
      'other classes',
      (ref) => {
        ref.prediction.classes = ['legit', 'fraud'];
        return ref;
      },
    ],
    [
      'other score bin edges',
      (ref) => {
        ref.prediction.score = { binEdges: [0, 0.9, 1], counts: [5, 1] };
        return ref;
      },
    ],
    ['no reference', () => undefined],
  ])('a reload with %s starts the drift series again, as a fresh start with that model would', async (_, change) => {
    const metrics = servingMetrics();
    const first = model(reference(1));
    metrics.modelLoaded(first, '1');
    const infer = () => metrics.inferred(first, [tensor([0.5, -1])], [tensor([0.2, 0.8])]);
    infer();
    const reloaded = model(change(reference(1)));
    metrics.modelLoaded(reloaded, '1');
    infer(); // a request still finishing on the first model has no series to land in
    const fresh = servingMetrics();
    fresh.modelLoaded(reloaded, '1');
    expect(await driftSeries(metrics)).toEqual(await driftSeries(fresh));
  });

  test("the reference's input and output are found by name among the model's", async () => {
    const metrics = servingMetrics();
    const served = model(reference(1), ['mask', 'x'], ['label', 'p']);
    metrics.modelLoaded(served, '1');
    metrics.inferred(served, [tensor([9, 9]), tensor([0.5, -1])], [tensor([1]), tensor([0.2, 0.8])]);
    const sums = (await samples(metrics, 'modelops_feature_value_sum')).map((s) => [s.labels.feature, s.value]);
    expect(sums).toEqual([
      ['a', 0.5],
      ['b', -1],
    ]);
    const score = await samples(metrics, 'modelops_prediction_score_sum');
    expect(score.map((s) => s.value)).toEqual([Math.fround(0.8)]);
  });

  test('a new version starts the request duration and batch size histograms again, under its own label', async () => {
    const metrics = servingMetrics();
    metrics.requestFinished(200, 0.1);
    metrics.batchRun(4);
    metrics.modelLoaded(model(reference(1)), '2');
    metrics.requestFinished(200, 0.2);
    metrics.batchRun(2);
    const counts = [
      ...(await samples(metrics, 'modelops_inference_request_duration_seconds_count')),
      ...(await samples(metrics, 'modelops_inference_batch_size_count')),
    ];
    expect(counts.map((s) => [s.name, s.labels.version, s.value])).toEqual([
      ['modelops_inference_request_duration_seconds_count', '2', 1],
      ['modelops_inference_batch_size_count', '2', 1],
    ]);
  });

  test('auth failures are counted per key and reason', async () => {
    const metrics = servingMetrics();
    for (const [scope, reason] of [
      ['api', 'missing'],
      ['control', 'missing'],
      ['api', 'invalid'],
      ['api', 'missing'],
    ] as const)
      metrics.authFailed(scope, reason);
    const failures = await samples(metrics, 'modelops_auth_failures_total');
    expect(failures.map((s) => [s.labels.scope, s.labels.reason, s.value])).toEqual([
      ['api', 'missing', 2],
      ['control', 'missing', 1],
      ['api', 'invalid', 1],
    ]);
  });
});

test("across workers, counts add up and the reference (every worker's alike) is taken once", async () => {
  const workers = [servingMetrics(), servingMetrics()];
  for (const worker of workers) {
    worker.modelLoaded(model(reference(1)), '1');
    worker.requestFinished(200, 0.01);
  }
  const cluster = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.registry.getMetricsAsJSON())));
  const exposed = parseExposition(await cluster.metrics());
  const values = (name: string) => exposed.filter((s) => s.name === name).map((s) => s.value);
  const oneWorker = async (name: string) => (await samples(workers[0]!, name)).map((s) => s.value);
  expect(values(METRIC_NAMES.requests)).toEqual([2]);
  expect(values(METRIC_NAMES.referenceSamples)).toEqual([6]);
  for (const name of [METRIC_NAMES.referenceFeature, METRIC_NAMES.referenceScore])
    expect(values(name)).toEqual(await oneWorker(name));
});
