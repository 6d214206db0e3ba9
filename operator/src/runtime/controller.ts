// A controller: a work queue of object keys fed by informer events, and N workers that call the
// reconciler and turn its outcome into queue operations and metrics — controller-runtime's
// reconcileHandler semantics:
//   success            → forget (reset backoff)                      result="success"
//   { requeueAfterMs } → forget, add after the delay                 result="requeue_after"
//   ConflictError      → rate-limited requeue, logged at debug       result="requeue"  (stale read: normal)
//   TerminalError      → forget, counted, not retried                result="error"
//   any other error    → rate-limited requeue                        result="error"
import type { Logger } from 'pino';
import type { Client } from './client.js';
import type { Clock } from './clock.js';
import { ConflictError, TerminalError, isNamespaceTerminating } from './errors.js';
import type { EventRecorder } from './events.js';
import type { InformerHandlers } from './informer.js';
import type { KeyMapper } from './enqueue.js';
import { reconcileLogger } from './logging.js';
import type { RuntimeMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import type { Cache } from './store/cache.js';
import type { StatusWriter } from './status.js';
import { keyFromString, keyToString, type KubernetesObject, type ObjectKey, type ResourceRef } from './types.js';

export type ReconcileResult = void | { requeueAfterMs: number };

export interface ReconcileContext {
  /** Carries controller, reconcileID, namespace and name. */
  log: Logger;
  client: Client;
  cache: Cache;
  recorder: EventRecorder;
  status: StatusWriter;
  now(): Date;
}

export interface WatchSpec {
  resource: ResourceRef;
  map(obj: KubernetesObject): ObjectKey[];
  /**
   * Cache only the objects that match (e.g. the pods of this controller's Jobs, not every pod in the
   * cluster). The resource's one shared informer lists and watches with it, so every controller
   * naming the resource must ask for the same selector.
   */
  labelSelector?: string;
}

export interface ControllerOptions {
  /** Unique per manager: the metrics' controller/name label and the log field. */
  name: string;
  /** The reconciled resource: its own changes enqueue its key. */
  for: ResourceRef;
  /** Dependents whose controller ownerReference points at a `for` object enqueue that owner. */
  owns?: ResourceRef[];
  /** Other resources, mapped to keys by a function. */
  watches?: WatchSpec[];
  /** Concurrent reconciles (default 1); one key is never reconciled twice at once. */
  workers?: number;
  reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult>;
}

export interface ControllerDeps {
  client: Client;
  cache: Cache;
  recorder: EventRecorder;
  status: StatusWriter;
  logger: Logger;
  metrics: RuntimeMetrics;
  clock: Clock;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  private readonly log: Logger;
  private readonly workers: number;
  private running: Promise<void>[] = [];

  constructor(
    private readonly opts: ControllerOptions,
    private readonly deps: ControllerDeps,
  ) {
    this.name = opts.name;
    this.workers = Math.max(1, opts.workers ?? 1);
    this.log = deps.logger.child({ controller: opts.name });
    this.queue = new WorkQueue<string>({ clock: deps.clock, metrics: deps.metrics.queueMetrics(opts.name) });
    deps.metrics.registerController(opts.name, this.workers);
  }

  /** Informer handlers that enqueue what `map` returns for added, updated (old and new) and deleted objects. */
  handlers(map: KeyMapper): InformerHandlers {
    const enqueue = (obj: KubernetesObject): void => {
      for (const key of map(obj)) this.queue.add(keyToString(key));
    };
    return {
      onAdd: enqueue,
      onUpdate: (oldObj, newObj) => {
        enqueue(newObj);
        if (oldObj !== newObj) enqueue(oldObj); // e.g. a dependent whose owner changed: both owners care
      },
      onDelete: enqueue,
    };
  }

  start(): void {
    if (this.running.length) return;
    this.log.info({ workers: this.workers }, 'starting workers');
    this.running = Array.from({ length: this.workers }, () => this.work());
  }

  /** Stops taking keys and waits for in-flight reconciles to finish. */
  async stop(): Promise<void> {
    await this.queue.shutDownWithDrain();
    await Promise.all(this.running);
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      try {
        await this.reconcileKey(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async reconcileKey(key: string): Promise<void> {
    const { metrics, clock } = this.deps;
    const objectKey = keyFromString(key);
    const log = reconcileLogger(this.log, objectKey);
    const ctx: ReconcileContext = {
      log,
      client: this.deps.client,
      cache: this.deps.cache,
      recorder: this.deps.recorder,
      status: this.deps.status,
      now: () => clock.now(),
    };
    const started = clock.monotonicMs();
    metrics.activeWorkers.labels(this.name).inc();
    try {
      const result = await this.opts.reconcile(ctx, objectKey);
      this.queue.forget(key);
      if (result && result.requeueAfterMs > 0) {
        this.queue.addAfter(key, result.requeueAfterMs);
        metrics.reconcileTotal.labels(this.name, 'requeue_after').inc();
      } else {
        metrics.reconcileTotal.labels(this.name, 'success').inc();
      }
    } catch (err) {
      this.handleError(key, err, log);
    } finally {
      metrics.activeWorkers.labels(this.name).dec();
      metrics.reconcileTime.labels(this.name).observe((clock.monotonicMs() - started) / 1000);
    }
  }

  private handleError(key: string, err: unknown, log: Logger): void {
    const { metrics } = this.deps;
    if (isNamespaceTerminating(err)) {
      // Everything in that namespace is going away: nothing to retry, nothing to alert on.
      log.debug({ err: (err as Error).message }, 'namespace is being deleted; dropping the key');
      this.queue.forget(key);
      metrics.reconcileTotal.labels(this.name, 'success').inc();
      return;
    }
    if (err instanceof ConflictError) {
      log.debug({ err: err.message }, 'conflict: object changed since it was read; requeueing');
      this.queue.addRateLimited(key);
      metrics.reconcileTotal.labels(this.name, 'requeue').inc();
      return;
    }
    metrics.reconcileErrors.labels(this.name).inc();
    metrics.reconcileTotal.labels(this.name, 'error').inc();
    if (err instanceof TerminalError) {
      metrics.terminalReconcileErrors.labels(this.name).inc();
      this.queue.forget(key);
      log.error({ err }, 'reconcile failed terminally; not retrying');
      return;
    }
    this.queue.addRateLimited(key);
    log.error({ err, retries: this.queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
  }
}
