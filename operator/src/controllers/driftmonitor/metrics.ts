// The modelops_drift_score gauge on the operator's /metrics: one series per monitored feature (or the
// prediction score, feature=":prediction") and method of every watched version, for dashboards and
// PrometheusRules (examples/prometheusrule-drift.yaml). A monitor's series are replaced at every
// evaluation and removed with it, so a version that stopped serving leaves no stale score behind.
import { Gauge, type Registry } from 'prom-client';
import type { DriftMethod, VersionVerdict } from '../../api/index.js';

const LABELS = ['namespace', 'driftmonitor', 'model', 'version', 'feature', 'method'] as const;
type Labels = Record<(typeof LABELS)[number], string>;

export class DriftScoreGauge {
  private readonly gauge: Gauge<(typeof LABELS)[number]>;
  private readonly series = new Map<string, Labels[]>();

  constructor(registry: Registry) {
    const existing = registry.getSingleMetric('modelops_drift_score');
    this.gauge =
      (existing as Gauge<(typeof LABELS)[number]> | undefined) ??
      new Gauge({
        name: 'modelops_drift_score',
        help: 'Drift of a feature (feature=":prediction": the predicted score) of a served model version from its training reference, by method (PSI, KS, JS; ChiSquare: the p-value)',
        labelNames: LABELS,
        registers: [registry],
      });
  }

  /** Replaces the series of one monitor with the scores of its latest evaluation. */
  set(monitor: { namespace: string; name: string; model: string }, versions: VersionVerdict[]): void {
    this.remove(monitor);
    const labels: Labels[] = [];
    for (const v of versions)
      for (const series of v.features ?? [])
        for (const [method, score] of Object.entries(series.scores) as [DriftMethod, number | undefined][]) {
          if (score === undefined) continue;
          const l = {
            namespace: monitor.namespace,
            driftmonitor: monitor.name,
            model: monitor.model,
            version: v.version,
            feature: series.name,
            method,
          };
          this.gauge.set(l, score);
          labels.push(l);
        }
    this.series.set(key(monitor), labels);
  }

  remove(monitor: { namespace: string; name: string }): void {
    for (const l of this.series.get(key(monitor)) ?? []) this.gauge.remove(l);
    this.series.delete(key(monitor));
  }
}

const key = (m: { namespace: string; name: string }) => `${m.namespace}/${m.name}`;
