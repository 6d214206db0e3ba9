import { parseExposition } from '../test/harness.js';
import { HistogramSeries, ServingMetrics } from './metrics.js';
import type { LoadedModel } from './model/loaded-model.js';
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

describe('the loaded reference as gauges (contract C6)', () => {
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
  const model = (ref: Reference | undefined) =>
    ({
      reference: ref,
      signature: {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
        outputs: [{ name: 'p', datatype: 'FP32', shape: [-1, 2] }],
        batchable: true,
      },
    }) as unknown as LoadedModel;
  const gauges = async (metrics: ServingMetrics) =>
    parseExposition(await metrics.registry.metrics())
      .filter((s) => s.name.startsWith('modelops_reference_'))
      .map((s) => [s.name.replace('modelops_reference_', ''), s.labels.feature, s.labels.le, s.value]);

  test('cumulative counts at the live histograms’ le values, absent without a reference, replaced on every load', async () => {
    const metrics = new ServingMetrics({ model: 'm', version: '1', role: 'stable', maxBatchSize: 8 });
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
