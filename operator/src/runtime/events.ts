// One recorder for all Kubernetes Events. Written as events.k8s.io/v1 — the current Events API, the
// only one with first-class reportingController/reportingInstance and a `series` for repeats (core
// v1 Events are the same objects seen through the old schema, so `kubectl describe` still shows them).
// Repeats of the same object+type+reason+message within a window update the existing Event's series
// instead of creating another, so a hot-looping failure cannot flood etcd with Events.
// Like client-go's broadcaster, recording never waits on the API server: event() queues the write and
// returns; a few writes run at a time in the background (in order within one series) and a backlog past
// its bound is dropped with a warning, so a burst of Events slows neither reconciles nor the API server.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Client } from './client.js';
import { toMicroTime, type Clock } from './clock.js';
import { isNotFound } from './errors.js';
import type { KubernetesObject, ResourceRef } from './types.js';

export const REPORTING_CONTROLLER = 'modelops.dev/operator';
export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /**
   * Queues the Event and resolves at once: it is written in the background. Never rejects — a failed
   * Event is logged, not allowed to fail a reconcile.
   */
  event(obj: KubernetesObject, type: EventType, reason: string, message: string): Promise<void>;
}

export const eventsRef: ResourceRef = {
  group: 'events.k8s.io',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
  namespaced: true,
};

/** Identifies "the same event": same object (by uid when known), type, reason and message. */
export function eventDedupKey(obj: KubernetesObject, type: EventType, reason: string, message: string): string {
  const m = obj.metadata ?? {};
  const object = m.uid ?? `${obj.apiVersion}/${obj.kind}/${m.namespace ?? ''}/${m.name}`;
  return JSON.stringify([object, type, reason, message]);
}

interface Series {
  namespace: string;
  name: string;
  count: number;
  lastSeenMs: number;
  /** Writes for one key run in order, so a repeat never races the create it bumps. */
  tail: Promise<void>;
  /** A bump is queued and has not started: it will write the latest count, so another need not be queued. */
  bumpQueued: boolean;
}

export interface RecorderOptions {
  clock: Clock;
  logger: Logger;
  /** Identifies this replica (pod name). */
  reportingInstance: string;
  /** Repeats within this window join the existing Event's series. Default 10 minutes. */
  windowMs?: number;
  /** Bound on remembered series; the least recently seen are forgotten first. */
  maxSeries?: number;
  /** Event writes sent at once. Default 4. */
  maxInFlight?: number;
  /** Writes waiting beyond this many are dropped (with a warning). Default 1000, client-go's. */
  maxQueued?: number;
}

export class Recorder implements EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly windowMs: number;
  private readonly maxSeries: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  /** Writes queued or running. */
  private pending = 0;
  private inFlight = 0;
  private readonly waitingForSlot: (() => void)[] = [];
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  constructor(
    private readonly client: Client,
    private readonly opts: RecorderOptions,
  ) {
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.maxSeries = opts.maxSeries ?? 4096;
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.maxQueued = opts.maxQueued ?? 1000;
  }

  event(obj: KubernetesObject, type: EventType, reason: string, message: string): Promise<void> {
    const key = eventDedupKey(obj, type, reason, message);
    const nowMs = this.opts.clock.monotonicMs();
    const existing = this.series.get(key);
    const fresh = existing && nowMs - existing.lastSeenMs <= this.windowMs;
    const entry: Series = fresh
      ? existing
      : {
          namespace: obj.metadata?.namespace || 'default',
          name: eventName(obj),
          count: 0,
          lastSeenMs: nowMs,
          tail: Promise.resolve(),
          bumpQueued: false,
        };
    entry.count++;
    entry.lastSeenMs = nowMs;
    this.remember(key, entry);
    // A bump already waiting will write this count too (a new series has none queued).
    if (entry.bumpQueued) return Promise.resolve();
    if (this.pending >= this.maxQueued) {
      this.opts.logger.warn({ reason, queued: this.pending }, 'event dropped: too many Events waiting to be written');
      return Promise.resolve();
    }
    const write =
      entry.count === 1
        ? () => this.create(entry, obj, type, reason, message)
        : () => {
            entry.bumpQueued = false;
            return this.bump(entry, obj, type, reason, message);
          };
    if (entry.count > 1) entry.bumpQueued = true;
    this.started();
    entry.tail = entry.tail
      .then(() => this.withSlot(write))
      .catch((err: unknown) => this.opts.logger.warn({ err: String(err), reason }, 'could not record event'))
      .finally(() => this.finished());
    return Promise.resolve();
  }

  /** Resolves once every queued Event has been written (or has failed): for shutdown and tests. */
  flush(): Promise<void> {
    return this.idle;
  }

  private started(): void {
    if (this.pending++ === 0) this.idle = new Promise((resolve) => (this.markIdle = resolve));
  }

  private finished(): void {
    if (--this.pending === 0) this.markIdle();
  }

  /** Runs `write` once fewer than maxInFlight writes are running; a finished write hands its slot on. */
  private async withSlot(write: () => Promise<void>): Promise<void> {
    if (this.inFlight < this.maxInFlight) this.inFlight++;
    else await new Promise<void>((resolve) => this.waitingForSlot.push(resolve));
    try {
      await write();
    } finally {
      const next = this.waitingForSlot.shift();
      if (next) next();
      else this.inFlight--;
    }
  }

  private async create(
    entry: Series,
    obj: KubernetesObject,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const m = obj.metadata ?? {};
    await this.client.create(eventsRef, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { namespace: entry.namespace, name: entry.name },
      eventTime: toMicroTime(this.opts.clock.now()),
      type,
      reason,
      action: reason,
      note: message.slice(0, 1024),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.opts.reportingInstance,
      regarding: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: m.namespace,
        name: m.name,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      },
    });
  }

  private async bump(
    entry: Series,
    obj: KubernetesObject,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const patch = { series: { count: entry.count, lastObservedTime: toMicroTime(this.opts.clock.now()) } };
    try {
      await this.client.patch(eventsRef, { namespace: entry.namespace, name: entry.name }, patch);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // The Event expired (the API server's event TTL) or was deleted: start a new one.
      entry.name = eventName(obj);
      entry.count = 1;
      await this.create(entry, obj, type, reason, message);
    }
  }

  /** Keeps the map in least-recently-seen order and bounded. */
  private remember(key: string, entry: Series): void {
    this.series.delete(key);
    this.series.set(key, entry);
    for (const oldest of this.series.keys()) {
      if (this.series.size <= this.maxSeries) break;
      this.series.delete(oldest);
    }
  }
}

/** client-go's "<object>.<hex>" naming, with a random suffix instead of nanoseconds. */
function eventName(obj: KubernetesObject): string {
  return `${(obj.metadata?.name ?? 'unknown').slice(0, 200)}.${Date.now().toString(16)}${randomBytes(4).toString('hex')}`;
}
