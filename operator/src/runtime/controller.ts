// A controller: a work queue of reconcile keys fed by informer events, and N workers that call the
// reconciler and turn its outcome into queue operations, metrics and Events — controller-runtime's
// reconcileHandler semantics:
//   success            → forget (reset backoff)                      result="success"
//   { requeueAfterMs } → forget, add after the delay                 result="requeue_after"
//   ConflictError      → rate-limited requeue, logged at debug       result="requeue"  (stale read: normal)
//   TerminalError      → forget, counted, not retried                result="error"    + Warning Event
//   past its deadline  → rate-limited requeue                        result="error"    + Warning Event
//   any other error    → rate-limited requeue                        result="error"    + Warning Event
// Each reconcile gets an AbortSignal that fires at its deadline or when the controller stops; every
// client call of the reconcile carries it, so a hung request cannot hold up shutdown or a handover.
import type { Logger } from 'pino';
import { fieldManagerFor, type Client, type ClientScope } from './client.js';
import { withTimeout, type Clock } from './clock.js';
import { mapToSelf, type MapFunc } from './enqueue.js';
import {
  ConflictError,
  ReconcileAbortedError,
  TerminalError,
  isNamespaceTerminating,
  ResourceUnavailableError,
} from './errors.js';
import type { EventRecorder } from './events.js';
import { Finalizers } from './finalizers.js';
import type { InformerHandlers } from './informer.js';
import { reconcileLogger } from './logging.js';
import type { RuntimeMetrics } from './metrics.js';
import { LOW_PRIORITY, WorkQueue } from './queue.js';
import type { Cache } from './store/cache.js';
import type { IndexFunc } from './store/store.js';
import { StatusWriter } from './status.js';
import { keyFromString, keyToString, type KubernetesObject, type ObjectKey, type ResourceRef } from './types.js';

export type ReconcileResult = void | { requeueAfterMs: number };

export interface ReconcileContext {
  /** Carries controller, reconcileID, namespace and name. */
  log: Logger;
  /** Writes as this controller's field manager; every call carries `signal`. */
  client: Client;
  cache: Cache;
  recorder: EventRecorder;
  status: StatusWriter;
  finalizers: Finalizers;
  /** Fires at `deadline` or when the controller stops: pass it to any other outbound call (fetch, Prometheus). */
  signal: AbortSignal;
  deadline: Date;
  now(): Date;
}

/** The reconciled resource, and how its objects map to reconcile keys. */
export interface ForSpec {
  resource: ResourceRef;
  /** The keys a change of a `for` object enqueues (default: its own key), e.g. `[{namespace, name: spec.model}]`. */
  map?: MapFunc;
}

export interface OwnsSpec {
  resource: ResourceRef;
  /** The cluster may not serve it (see WatchSpec.optional). */
  optional?: boolean;
}

export interface WatchSpec {
  resource: ResourceRef;
  map: MapFunc;
  /**
   * Cache only the objects that match (e.g. the pods of this controller's Jobs, not every pod in the
   * cluster). The resource's one shared informer lists and watches with it, so every controller
   * naming the resource must ask for the same selector.
   */
  labelSelector?: string;
  /**
   * The cluster may not serve this resource (an API group turned off, a CRD not installed): it does
   * not hold up sync, readiness or leader election; it is watched once discovery finds it, and
   * `cache.isAvailable(resource)` says whether it can be read now. When it appears or goes, every
   * key of the controller is reconciled again.
   */
  optional?: boolean;
}

/** A cache index: `cache.list(resource, { index: { name, value } })` finds the objects `keys` files under value. */
export interface IndexSpec {
  resource: ResourceRef;
  name: string;
  keys: IndexFunc;
}

export interface ControllerOptions {
  /** Unique per manager: the metrics' controller/name label, the log field, the field manager `modelops-<name>`. */
  name: string;
  /** The reconciled resource: its own changes enqueue its key (or what `map` returns). */
  for: ResourceRef | ForSpec;
  /** Dependents whose controller ownerReference points at a `for` object enqueue that owner's keys. */
  owns?: (ResourceRef | OwnsSpec)[];
  /** Other resources, mapped to keys by a function. */
  watches?: WatchSpec[];
  /** Indexes to declare on the shared cache. */
  indexes?: IndexSpec[];
  /** Concurrent reconciles (default 1); one key is never reconciled twice at once. */
  workers?: number;
  /** A reconcile's deadline: its signal fires after this long (default 60 s). */
  reconcileTimeoutMs?: number;
  reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult>;
}

export const forSpecOf = (opts: ControllerOptions): ForSpec =>
  'resource' in opts.for ? opts.for : { resource: opts.for };

export interface ControllerDeps {
  /** A client for one reconcile: its field manager and AbortSignal. */
  client(scope: Required<ClientScope>): Client;
  cache: Cache;
  recorder: EventRecorder;
  logger: Logger;
  metrics: RuntimeMetrics;
  clock: Clock;
}

const DEFAULT_RECONCILE_TIMEOUT_MS = 60_000;

/** Queue priorities: what a user asked for (see `handlers`) before what follows from our own writes. */
const FOLLOW_UP = LOW_PRIORITY;
const USER_CHANGE = FOLLOW_UP + 1;

/**
 * Follow-ups get at most half the workers (all of them with one): the rest stay free for what users ask. A
 * follow-up can be slow (a new model's Services took seconds each while the API server allocated ClusterIPs
 * under a burst) and, once started, holds its worker; without this cap a burst of new objects waited behind them.
 */
export const followUpWorkers = (workers: number) => Math.max(1, Math.ceil(workers / 2));

/** A new generation (the spec edited) or the start of a deletion; not our status or metadata writes. */
const isUserChange = (oldObj: KubernetesObject, newObj: KubernetesObject) =>
  oldObj.metadata?.generation !== newObj.metadata?.generation ||
  (!oldObj.metadata?.deletionTimestamp && newObj.metadata?.deletionTimestamp !== undefined);

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly forSpec: ForSpec;
  private readonly timeoutMs: number;
  private readonly inFlight = new Set<AbortController>();
  private running: Promise<void>[] = [];

  constructor(
    private readonly opts: ControllerOptions,
    private readonly deps: ControllerDeps,
  ) {
    this.name = opts.name;
    this.workers = Math.max(1, opts.workers ?? 1);
    this.forSpec = forSpecOf(opts);
    this.timeoutMs = opts.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS;
    this.log = deps.logger.child({ controller: opts.name });
    this.queue = new WorkQueue<string>({
      clock: deps.clock,
      metrics: deps.metrics.queueMetrics(opts.name),
      lowPriorityLimit: followUpWorkers(this.workers),
    });
    deps.metrics.registerController(opts.name, this.workers);
  }

  /**
   * Informer handlers that enqueue what `map` returns for added, updated (old and new) and deleted objects.
   * With `userChanges`, the reconciled resource's own handlers: a created or deleted object, or a new
   * generation (its spec edited), is what a user asked for and queues ahead of the follow-ups our own writes
   * cause (its status, its children's events, requeues). Under a burst of new objects every first pass comes
   * before any second one; without it the children's events of early keys queued between the later first passes.
   */
  handlers(map: MapFunc, { userChanges = false } = {}): InformerHandlers {
    const enqueue = (obj: KubernetesObject, priority: number): void => {
      for (const key of map(obj, this.deps.cache)) this.queue.add(keyToString(key), priority);
    };
    const asked = userChanges ? USER_CHANGE : FOLLOW_UP;
    return {
      onAdd: (obj) => enqueue(obj, asked),
      onUpdate: (oldObj, newObj) => {
        const priority = userChanges && isUserChange(oldObj, newObj) ? USER_CHANGE : FOLLOW_UP;
        enqueue(newObj, priority);
        if (oldObj !== newObj) enqueue(oldObj, priority); // e.g. a dependent whose owner changed: both owners care
      },
      onDelete: (obj) => enqueue(obj, asked),
    };
  }

  /** Enqueues the keys of every `for` object: something they all depend on changed (a resource appeared). */
  requeueAll(): void {
    const { resource, map } = this.forSpec;
    if (!this.deps.cache.isAvailable(resource)) return;
    const handlers = this.handlers(map ?? mapToSelf);
    for (const obj of this.deps.cache.list(resource)) handlers.onAdd!(obj);
  }

  start(): void {
    if (this.running.length) return;
    this.log.info({ workers: this.workers }, 'starting workers');
    this.running = Array.from({ length: this.workers }, () => this.work());
  }

  /**
   * Stops taking keys, gives in-flight reconciles `graceMs` to finish, then aborts their signals
   * (their client calls fail at once) and waits for them to return.
   */
  async stop(graceMs = 0): Promise<void> {
    const drained = this.queue.shutDownWithDrain();
    // Also a key handed to a worker that has not started it yet gets the grace period, and no more.
    if (graceMs > 0) await withTimeout(this.deps.clock, graceMs, drained, undefined);
    for (const abort of this.inFlight)
      abort.abort(new ReconcileAbortedError('shutdown', `controller ${this.name} is stopping`));
    await drained;
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
    const abort = new AbortController();
    const deadline = clock.setTimer(
      () => abort.abort(new ReconcileAbortedError('deadline', `reconcile did not finish within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    this.inFlight.add(abort);
    const client = this.deps.client({ fieldManager: fieldManagerFor(this.name), signal: abort.signal });
    const ctx: ReconcileContext = {
      log,
      client,
      cache: this.deps.cache,
      recorder: this.deps.recorder,
      status: new StatusWriter(client, clock),
      finalizers: new Finalizers(client),
      signal: abort.signal,
      deadline: new Date(clock.now().getTime() + this.timeoutMs),
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
      // An aborted reconcile fails with whatever its interrupted call threw; the signal says why.
      await this.handleError(key, objectKey, abort.signal.aborted ? abort.signal.reason : err, log);
    } finally {
      deadline.cancel();
      this.inFlight.delete(abort);
      metrics.activeWorkers.labels(this.name).dec();
      metrics.reconcileTime.labels(this.name).observe((clock.monotonicMs() - started) / 1000);
    }
  }

  private async handleError(key: string, objectKey: ObjectKey, err: unknown, log: Logger): Promise<void> {
    const { metrics } = this.deps;
    if (err instanceof ReconcileAbortedError && err.reason === 'shutdown') {
      // Not a failure: the next leader (or the next start) reconciles this key again from a fresh list.
      log.info('reconcile aborted: the controller is stopping');
      return;
    }
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
    } else {
      this.queue.addRateLimited(key);
      log.error({ err, retries: this.queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
    }
    await this.warn(objectKey, err);
  }

  /** The user sees a failing reconcile on the object itself (when the key names one), not only in our logs. */
  private async warn(key: ObjectKey, err: unknown): Promise<void> {
    const { resource } = this.forSpec;
    let obj: KubernetesObject | undefined;
    try {
      obj = this.deps.cache.get(resource, key);
    } catch (e) {
      if (!(e instanceof ResourceUnavailableError)) throw e;
    }
    if (!obj) return;
    const message = err instanceof Error ? err.message : String(err);
    await this.deps.recorder.event(obj, 'Warning', 'ReconcileError', `${this.name} controller: ${message}`);
  }
}
