import { HistogramSeries } from './metrics.js';

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
