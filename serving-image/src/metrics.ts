// Prometheus metrics. Every series carries model, version and role (the registry's default labels), so the
// operator's canary analysis and drift monitor can tell stable from canary with Prometheus alone.
//
// prom-client owns the registry and exposition (and the process metrics). The instruments on the inference
// path are small fixed-bucket ones instead of prom-client's Histogram/Counter: those hash a label object on
// every observation, and the feature histograms take one observation per feature per row (30 per request for
// the fraud models), which would cost more than the rest of the request's handling.
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import type { Role } from './config.js';
import type { CoreObserver } from './model/core.js';
import type { LoadedModel } from './model/loaded-model.js';
import type { Tensor } from './model/tensor.js';
import { interiorEdges, type Reference } from './reference.js';

export const METRIC_NAMES = {
  requests: 'modelops_inference_requests_total',
  authFailures: 'modelops_auth_failures_total',
  duration: 'modelops_inference_request_duration_seconds',
  batchSize: 'modelops_inference_batch_size',
  predictions: 'modelops_predictions_total',
  featureValue: 'modelops_feature_value',
  score: 'modelops_prediction_score',
  referenceFeature: 'modelops_reference_feature_cumulative_count',
  referenceScore: 'modelops_reference_prediction_score_cumulative_count',
  referenceSamples: 'modelops_reference_sample_count',
} as const;

const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type Labels = Record<string, string>;
/** The shapes prom-client's registry reads from a metric's get(). */
type Values = { metricName?: string; labels: Record<string, string | number>; value: number }[];
type MetricType = 'histogram' | 'counter' | 'gauge';
/** How prom-client's AggregatorRegistry combines one metric across worker processes. */
type Aggregator = 'sum' | 'first';
interface Exposition {
  name: string;
  help: string;
  type: MetricType;
  values: Values;
  aggregator: Aggregator;
}

/** One histogram series: cumulative counts are computed only at scrape time. */
export class HistogramSeries {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (Number.isNaN(value)) return;
    let low = 0;
    let high = this.bounds.length; // the +Inf bucket
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (value <= this.bounds[mid]!) high = mid;
      else low = mid + 1;
    }
    this.counts[low]!++;
    this.sum += value;
    this.count++;
  }

  exposition(name: string, values: Values): void {
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
      values.push({ metricName: `${name}_bucket`, labels: { ...this.labels, le }, value: cumulative });
    }
    values.push({ metricName: `${name}_sum`, labels: this.labels, value: this.sum });
    values.push({ metricName: `${name}_count`, labels: this.labels, value: this.count });
  }
}

/** A counter's or a gauge's one value. */
export class ValueSeries {
  constructor(
    readonly labels: Labels,
    public value = 0,
  ) {}
}

/** A metric family registered with prom-client's registry through its get() contract. */
class Family<S extends HistogramSeries | ValueSeries> {
  series: S[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    /** Counts add up across workers; a gauge that every worker holds alike (the reference) is taken once. */
    readonly aggregator: Aggregator = 'sum',
  ) {}

  async get(): Promise<Exposition> {
    const values: Values = [];
    for (const series of this.series) {
      if (series instanceof HistogramSeries) series.exposition(this.name, values);
      else values.push({ labels: series.labels, value: series.value });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series = [];
  }
}

/** Drift instruments bound to one model's reference: column and class positions resolved once. */
interface DriftBinding {
  /** Identifies the buckets and classes, to tell whether a reload changed them. */
  key: string;
  /** Where each model with these buckets has the reference's input and output (requests may finish on a replaced one). */
  models: WeakMap<LoadedModel, { inputIndex: number; outputIndex: number }>;
  features: HistogramSeries[];
  classes: ValueSeries[];
  score: HistogramSeries;
}

export interface MetricsOptions {
  model: string;
  version: string;
  role: Role;
  maxBatchSize: number;
}

export class ServingMetrics implements CoreObserver {
  readonly registry = new Registry();
  private readonly requests = new Family<ValueSeries>(
    METRIC_NAMES.requests,
    'Inference requests by response status code.',
    'counter',
  );
  private requestsByCode = new Map<number, ValueSeries>();
  private readonly authFailures = new Family<ValueSeries>(
    METRIC_NAMES.authFailures,
    'Requests refused for a missing or invalid bearer token, by key (api, control) and reason.',
    'counter',
  );
  private readonly duration = new Family<HistogramSeries>(
    METRIC_NAMES.duration,
    'Inference request latency, from request to response.',
    'histogram',
  );
  private durationSeries = new HistogramSeries({}, DURATION_BUCKETS);
  private readonly batchSize = new Family<HistogramSeries>(
    METRIC_NAMES.batchSize,
    'Rows per onnxruntime session.run (dynamic batching).',
    'histogram',
  );
  private batchSeries: HistogramSeries;
  private readonly defaultLabels: { model: string; version: string; role: Role };
  private readonly maxBatchSize: number;
  private readonly predictions = new Family<ValueSeries>(
    METRIC_NAMES.predictions,
    'Predicted classes (argmax), by class name from the reference.',
    'counter',
  );
  private readonly featureValue = new Family<HistogramSeries>(
    METRIC_NAMES.featureValue,
    "Input feature values; buckets are the reference's interior bin edges.",
    'histogram',
  );
  private readonly score = new Family<HistogramSeries>(
    METRIC_NAMES.score,
    "Positive-class probability; buckets are the reference's score bin edges.",
    'histogram',
  );
  private readonly referenceFeature = new Family<ValueSeries>(
    METRIC_NAMES.referenceFeature,
    "The loaded reference's count of each feature's values <= le (the buckets of modelops_feature_value).",
    'gauge',
    'first',
  );
  private readonly referenceScore = new Family<ValueSeries>(
    METRIC_NAMES.referenceScore,
    "The loaded reference's count of positive-class scores <= le (the buckets of modelops_prediction_score).",
    'gauge',
    'first',
  );
  private readonly referenceSamples = new Family<ValueSeries>(
    METRIC_NAMES.referenceSamples,
    'How many samples the loaded reference was computed from.',
    'gauge',
    'first',
  );
  private drift: DriftBinding | undefined;

  constructor(options: MetricsOptions) {
    this.defaultLabels = { model: options.model, version: options.version, role: options.role };
    this.maxBatchSize = options.maxBatchSize;
    this.registry.setDefaultLabels(this.defaultLabels);
    collectDefaultMetrics({ register: this.registry });
    this.duration.series = [this.durationSeries];
    this.batchSeries = new HistogramSeries({}, powersOfTwoUpTo(options.maxBatchSize));
    this.batchSize.series = [this.batchSeries];
    for (const family of [
      this.requests,
      this.authFailures,
      this.duration,
      this.batchSize,
      this.predictions,
      this.featureValue,
      this.score,
      this.referenceFeature,
      this.referenceScore,
      this.referenceSamples,
    ]) {
      // Our families satisfy the part of prom-client's Metric that the registry uses: name, help, type, get, reset.
      this.registry.registerMetric(family as unknown as Metric);
    }
  }

  requestFinished(code: number, seconds: number): void {
    let series = this.requestsByCode.get(code);
    if (!series) {
      series = new ValueSeries({ code: String(code) });
      this.requestsByCode.set(code, series);
      this.requests.series.push(series);
    }
    series.value++;
    this.durationSeries.observe(seconds);
  }

  batchRun(rows: number): void {
    this.batchSeries.observe(rows);
  }

  authFailed(scope: string, reason: string): void {
    let series = this.authFailures.series.find((s) => s.labels.scope === scope && s.labels.reason === reason);
    if (!series) {
      series = new ValueSeries({ scope, reason });
      this.authFailures.series.push(series);
    }
    series.value++;
  }

  modelUnloaded(): void {
    this.exportReference(undefined);
  }

  /** Another version is served from now on: its series carry its label and start from zero. */
  private versionChanged(version: string): void {
    this.defaultLabels.version = version;
    this.registry.setDefaultLabels(this.defaultLabels);
    this.requestsByCode = new Map();
    this.requests.reset();
    this.durationSeries = new HistogramSeries({}, DURATION_BUCKETS);
    this.duration.series = [this.durationSeries];
    this.batchSeries = new HistogramSeries({}, powersOfTwoUpTo(this.maxBatchSize));
    this.batchSize.series = [this.batchSeries];
    this.drift = undefined;
  }

  /**
   * A newly loaded model's reference decides the feature and score buckets from now on. A reload with the
   * same buckets and classes keeps the series counting, as Prometheus expects of counters and histograms.
   */
  modelLoaded(model: LoadedModel, version: string): void {
    if (version !== this.defaultLabels.version) this.versionChanged(version);
    this.exportReference(model.reference);
    const reference = model.reference;
    const inputIndex = model.signature.inputs.findIndex((spec) => spec.name === reference?.input.name);
    const outputIndex = model.signature.outputs.findIndex((spec) => spec.name === reference?.prediction.output);
    const key =
      reference &&
      JSON.stringify([
        reference.features.map((f) => [f.name, f.binEdges]),
        reference.prediction.classes,
        reference.prediction.score.binEdges,
      ]);
    if (this.drift && key === this.drift.key) {
      this.drift.models.set(model, { inputIndex, outputIndex });
      return;
    }
    this.drift = undefined;
    for (const family of [this.predictions, this.featureValue, this.score]) family.reset();
    if (!reference || !key) return;
    const features = reference.features.map((f) => new HistogramSeries({ feature: f.name }, interiorEdges(f.binEdges)));
    const classes = reference.prediction.classes.map((name) => new ValueSeries({ class: name }));
    const score = new HistogramSeries({}, interiorEdges(reference.prediction.score.binEdges));
    this.featureValue.series = features;
    this.predictions.series = classes;
    this.score.series = [score];
    const models = new WeakMap([[model, { inputIndex, outputIndex }]]);
    this.drift = { key, models, features, classes, score };
  }

  /**
   * The reference as gauges beside the live histograms (contract C6), so the operator can read the training
   * distribution from Prometheus: cumulative counts at the same `le` values. Replaced on every load.
   */
  private exportReference(reference: Reference | undefined): void {
    this.referenceFeature.series = (reference?.features ?? []).flatMap((feature) =>
      cumulativeSeries(feature, { feature: feature.name }),
    );
    this.referenceScore.series = reference ? cumulativeSeries(reference.prediction.score, {}) : [];
    this.referenceSamples.series = reference ? [new ValueSeries({}, reference.sampleCount)] : [];
  }

  inferred(model: LoadedModel, inputs: Tensor[], outputs: Tensor[]): void {
    const drift = this.drift;
    // A request that finishes on a replaced model with other buckets has no series to land in.
    const at = drift?.models.get(model);
    if (!drift || !at) return;
    const features = inputs[at.inputIndex]!.data as Float32Array;
    const width = drift.features.length;
    for (let row = 0; row < features.length; row += width) {
      for (let column = 0; column < width; column++) drift.features[column]!.observe(features[row + column]!);
    }
    const probabilities = outputs[at.outputIndex]!.data as Float32Array;
    const classCount = drift.classes.length;
    for (let row = 0; row < probabilities.length; row += classCount) {
      let best = 0;
      for (let c = 1; c < classCount; c++) if (probabilities[row + c]! > probabilities[row + best]!) best = c;
      drift.classes[best]!.value++;
      drift.score.observe(probabilities[row + classCount - 1]!);
    }
  }
}

/** A histogram's counts per bin as cumulative counts at its interior edges and +Inf, as Prometheus buckets are. */
function cumulativeSeries(histogram: { binEdges: number[]; counts: number[] }, labels: Labels): ValueSeries[] {
  const bounds = [...interiorEdges(histogram.binEdges), '+Inf'];
  let cumulative = 0;
  return histogram.counts.map((count, i) => {
    cumulative += count;
    return new ValueSeries({ ...labels, le: String(bounds[i]) }, cumulative);
  });
}

function powersOfTwoUpTo(max: number): number[] {
  const bounds = [1];
  while (bounds.at(-1)! < max) bounds.push(bounds.at(-1)! * 2);
  return bounds;
}
