// The Prometheus HTTP API client shared by the ModelVersion analysis and the DriftMonitor.
export {
  HttpPrometheusClient,
  PrometheusError,
  matchers,
  parseValue,
  type HttpPrometheusClientOptions,
  type PrometheusClient,
  type PrometheusErrorKind,
  type QueryOptions,
  type RangeOptions,
  type Sample,
  type Series,
} from './client.js';
export {
  binCounts,
  histogramQuery,
  readHistogram,
  readHistograms,
  type HistogramCounts,
  type HistogramQuery,
} from './histogram.js';
