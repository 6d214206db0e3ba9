// Prometheus metrics with controller-runtime's and client-go's names, so existing dashboards and
// alerts work unchanged. Everything lives on a per-Manager Registry (never the global one): tests
// run several Managers in one process.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueMetrics } from './queue.js';

/** controller-runtime's reconcile_time buckets. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2,
  2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's workqueue buckets: 10 ns to 1000 s, ×10 each. */
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

/** client-go's rest_client_request_duration_seconds buckets. */
const REST_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'requeue_after';

export class RuntimeMetrics {
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly terminalReconcileErrors: Counter<'controller'>;
  readonly reconcileTime: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly maxConcurrentReconciles: Gauge<'controller'>;
  readonly leaderStatus: Gauge<'name'>;
  readonly restRequests: Counter<'method' | 'code'>;
  readonly restLatency: Histogram<'method'>;
  private readonly queueDepth: Gauge<'name'>;
  private readonly queueAdds: Counter<'name'>;
  private readonly queueLatency: Histogram<'name'>;
  private readonly workDuration: Histogram<'name'>;
  private readonly retries: Counter<'name'>;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    collectDefaultMetrics({ register: registry });
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.terminalReconcileErrors = new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    });
    this.maxConcurrentReconciles = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    });
    this.leaderStatus = new Gauge({
      name: 'leader_election_master_status',
      help: '1 while this replica holds the named lease, else 0',
      labelNames: ['name'],
      registers,
    });
    this.restRequests = new Counter({
      name: 'rest_client_requests_total',
      help: 'Number of HTTP requests to the API server, by method and status code',
      labelNames: ['method', 'code'],
      registers,
    });
    this.restLatency = new Histogram({
      name: 'rest_client_request_duration_seconds',
      help: 'Request latency in seconds as the operator saw it (a watch: until its response began), by method',
      labelNames: ['method'],
      buckets: REST_BUCKETS,
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name'],
      registers,
    });
    this.queueAdds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: ['name'],
      registers,
    });
    this.queueLatency = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name'],
      buckets: WORKQUEUE_BUCKETS,
      registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name'],
      buckets: WORKQUEUE_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name'],
      registers,
    });
  }

  /** Creates every series of a controller at zero, as controller-runtime does, so rate() works from the start. */
  registerController(controller: string, workers: number): void {
    for (const result of ['success', 'error', 'requeue', 'requeue_after'] satisfies ReconcileResultLabel[])
      this.reconcileTotal.labels(controller, result).inc(0);
    this.reconcileErrors.labels(controller).inc(0);
    this.terminalReconcileErrors.labels(controller).inc(0);
    this.activeWorkers.labels(controller).set(0);
    this.maxConcurrentReconciles.labels(controller).set(workers);
  }

  /** The queue's series start at zero too, so an idle controller still shows `workqueue_depth 0`. */
  queueMetrics(name: string): QueueMetrics {
    this.queueDepth.labels(name).set(0);
    this.queueAdds.labels(name).inc(0);
    this.retries.labels(name).inc(0);
    return {
      added: () => this.queueAdds.labels(name).inc(),
      depth: (n) => this.queueDepth.labels(name).set(n),
      queueLatency: (s) => this.queueLatency.labels(name).observe(s),
      workDuration: (s) => this.workDuration.labels(name).observe(s),
      retried: () => this.retries.labels(name).inc(),
    };
  }
}
