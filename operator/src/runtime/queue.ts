// The work queue, after client-go's util/workqueue: a FIFO of keys with three guarantees a controller
// relies on — a key waiting in the queue is held once however often it is added (dirty set); a key
// is never handed to two workers at once (processing set: an add during processing is parked and
// re-queued by done()); failures back off per key. Keys carry a priority (controller-runtime's priority
// queue): a higher one is handed out first, FIFO within one; a key added again with a higher priority
// moves up. Keys of priority 0 or lower (follow-ups) may be capped to a share of the workers, so that a
// burst of higher-priority keys always finds one free instead of queueing behind slow follow-ups. Pure:
// time comes from an injected Clock.
import { ItemBackoff, type BackoffPolicy } from './backoff.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';

/** Observations the queue reports; metrics.ts implements them with prom-client. */
export interface QueueMetrics {
  added(): void;
  depth(n: number): void;
  /** Seconds a key waited between being queued and handed to a worker. */
  queueLatency(seconds: number): void;
  /** Seconds a worker held a key (get → done). */
  workDuration(seconds: number): void;
  retried(): void;
}

const noMetrics: QueueMetrics = { added() {}, depth() {}, queueLatency() {}, workDuration() {}, retried() {} };

/** The default priority, and the highest that `lowPriorityLimit` caps. */
export const LOW_PRIORITY = 0;

export interface WorkQueueOptions {
  clock?: Clock;
  backoff?: BackoffPolicy;
  metrics?: QueueMetrics;
  /** At most this many keys of LOW_PRIORITY or lower are processed at once (default: no limit). */
  lowPriorityLimit?: number;
}

export class WorkQueue<K = string> {
  private readonly clock: Clock;
  private readonly metrics: QueueMetrics;
  private readonly backoff: ItemBackoff<K>;
  /** The queued keys, a FIFO per priority. */
  private readonly lanes = new Map<number, K[]>();
  /** Keys that need processing (queued, or added again while being processed), with their priority. */
  private readonly dirty = new Map<K, number>();
  private readonly processing = new Set<K>();
  /** Keys being processed that were handed out at LOW_PRIORITY or lower. */
  private readonly processingLow = new Set<K>();
  private readonly lowPriorityLimit: number;
  private readonly queuedAt = new Map<K, number>();
  private readonly startedAt = new Map<K, number>();
  /** Keys scheduled by addAfter, with the earliest deadline asked for. */
  private readonly waiting = new Map<K, { readyAt: number; timer: TimerHandle }>();
  private readonly getters: ((key: K | undefined) => void)[] = [];
  private shuttingDown = false;
  private drained: (() => void) | undefined;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.metrics = opts.metrics ?? noMetrics;
    this.backoff = new ItemBackoff<K>(opts.backoff);
    this.lowPriorityLimit = opts.lowPriorityLimit ?? Infinity;
  }

  add(key: K, priority = LOW_PRIORITY): void {
    if (this.shuttingDown) return;
    const queued = this.dirty.get(key);
    if (queued !== undefined) return this.raise(key, queued, priority);
    this.metrics.added();
    this.dirty.set(key, priority);
    if (this.processing.has(key)) return; // done() re-queues it
    this.enqueue(key);
  }

  /** Adds `key` after `delayMs`. Of several pending delays for one key, the earliest wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const readyAt = this.clock.monotonicMs() + delayMs;
    const pending = this.waiting.get(key);
    if (pending && pending.readyAt <= readyAt) return;
    pending?.timer.cancel();
    const timer = this.clock.setTimer(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.waiting.set(key, { readyAt, timer });
  }

  /** Re-adds a failed key after its exponential backoff. */
  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    this.metrics.retried();
    this.addAfter(key, this.backoff.next(key));
  }

  /** The key succeeded (or will never be retried): reset its backoff. */
  forget(key: K): void {
    this.backoff.forget(key);
  }

  numRequeues(key: K): number {
    return this.backoff.retries(key);
  }

  /** The next key to process, or undefined once the queue is shut down. Pair with done(key). */
  get(): Promise<K | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.next();
    if (key !== undefined) return Promise.resolve(this.startProcessing(key));
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: K): void {
    if (!this.processing.delete(key)) return;
    this.processingLow.delete(key);
    const started = this.startedAt.get(key)!; // set with processing
    this.startedAt.delete(key);
    this.metrics.workDuration((this.clock.monotonicMs() - started) / 1000);
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key);
    else this.dispatch(); // a low-priority slot may have come free
    if (this.shuttingDown && this.processing.size === 0) this.drained?.();
  }

  len(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.length;
    return n;
  }

  isProcessing(key: K): boolean {
    return this.processing.has(key);
  }

  /**
   * Stops handing out keys (waiting get() calls resolve undefined), drops queued and delayed keys —
   * the next start relists everything — and resolves once every key being processed is done().
   */
  shutDownWithDrain(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) timer.cancel();
    this.waiting.clear();
    this.lanes.clear();
    this.metrics.depth(0);
    for (const getter of this.getters.splice(0)) getter(undefined);
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }

  private enqueue(key: K): void {
    this.queuedAt.set(key, this.clock.monotonicMs());
    this.laneOf(this.dirty.get(key)!).push(key);
    this.metrics.depth(this.len());
    this.dispatch();
  }

  /** Hands queued keys to the workers waiting in get(), as long as there are both. */
  private dispatch(): void {
    while (this.getters.length) {
      const key = this.next();
      if (key === undefined) return;
      this.getters.shift()!(this.startProcessing(key));
    }
  }

  /** A key already dirty, added again with a higher priority: a queued one moves to that lane's end. */
  private raise(key: K, current: number, priority: number): void {
    if (priority <= current) return;
    this.dirty.set(key, priority);
    if (this.processing.has(key)) return; // done() re-queues it with the new priority
    const lane = this.lanes.get(current)!;
    lane.splice(lane.indexOf(key), 1);
    this.laneOf(priority).push(key);
    this.dispatch(); // held back as a follow-up, it may go now
  }

  private laneOf(priority: number): K[] {
    let lane = this.lanes.get(priority);
    if (!lane) this.lanes.set(priority, (lane = []));
    return lane;
  }

  /** The first key of the highest non-empty lane, unless that is a low one and they have all their workers. */
  private next(): K | undefined {
    let best: K[] | undefined;
    let bestPriority = -Infinity;
    for (const [priority, lane] of this.lanes)
      if (lane.length && priority > bestPriority) [best, bestPriority] = [lane, priority];
    if (bestPriority <= LOW_PRIORITY && this.processingLow.size >= this.lowPriorityLimit) return undefined;
    return best?.shift();
  }

  private startProcessing(key: K): K {
    if (this.dirty.get(key)! <= LOW_PRIORITY) this.processingLow.add(key);
    this.dirty.delete(key);
    this.processing.add(key);
    const now = this.clock.monotonicMs();
    const queued = this.queuedAt.get(key)!; // every key handed out was enqueued
    this.queuedAt.delete(key);
    this.metrics.queueLatency((now - queued) / 1000);
    this.startedAt.set(key, now);
    this.metrics.depth(this.len());
    return key;
  }
}
