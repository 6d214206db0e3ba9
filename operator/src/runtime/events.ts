// One recorder for all Kubernetes Events. Written as events.k8s.io/v1 — the current Events API, the
// only one with first-class reportingController/reportingInstance and a `series` for repeats (core
// v1 Events are the same objects seen through the old schema, so `kubectl describe` still shows them).
// Repeats of the same object+type+reason+message within a window update the existing Event's series
// instead of creating another, so a hot-looping failure cannot flood etcd with Events.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Client } from './client.js';
import { toMicroTime, type Clock } from './clock.js';
import { isNotFound } from './errors.js';
import type { KubernetesObject, ResourceRef } from './types.js';

export const REPORTING_CONTROLLER = 'modelops.dev/operator';
export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Never rejects: a failed Event is logged, not allowed to fail a reconcile. */
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
}

export class Recorder implements EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly windowMs: number;
  private readonly maxSeries: number;

  constructor(
    private readonly client: Client,
    private readonly opts: RecorderOptions,
  ) {
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.maxSeries = opts.maxSeries ?? 4096;
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
        };
    entry.count++;
    entry.lastSeenMs = nowMs;
    this.remember(key, entry);
    const write =
      entry.count === 1
        ? () => this.create(entry, obj, type, reason, message)
        : () => this.bump(entry, obj, type, reason, message);
    entry.tail = entry.tail
      .then(write)
      .catch((err: unknown) => this.opts.logger.warn({ err: String(err), reason }, 'could not record event'));
    return entry.tail;
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
