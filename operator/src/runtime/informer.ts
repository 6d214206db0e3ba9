// An informer keeps a Store in step with one resource: list, then watch from the list's
// resourceVersion (bookmarks on, so an idle watch still advances it); re-watch when the server ends a
// watch; relist when the resourceVersion is gone (410); back off and retry on anything else — a
// refused connection, a reset, a watch that went silent — and never give up while running.
import type { Logger } from 'pino';
import { exponentialDelayMs, withJitter, type BackoffPolicy } from './backoff.js';
import type { RestClient, WatchEvent } from './client.js';
import { realClock, sleep, type Clock } from './clock.js';
import { GoneError, isNotFound } from './errors.js';
import { Store } from './store/store.js';
import {
  apiVersionOf,
  keyToString,
  objectKeyOf,
  type KubernetesObject,
  type ObjectList,
  type ResourceRef,
} from './types.js';

/** The two calls an informer needs; a seam for unit tests. */
export interface ListerWatcher {
  /** Rejects when `signal` fires (the informer stopped), without waiting for the answer. */
  list(signal: AbortSignal): Promise<ObjectList>;
  /** Resolves when the server ends the watch; rejects on failure (GoneError: relist). */
  watch(resourceVersion: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void>;
}

export interface InformerHandlers {
  onAdd?(obj: KubernetesObject): void;
  onUpdate?(oldObj: KubernetesObject, newObj: KubernetesObject): void;
  onDelete?(obj: KubernetesObject): void;
}

export interface InformerOptions {
  logger: Logger;
  clock?: Clock;
  /** Delay between failed attempts: jittered, doubling from base to max, reset by a healthy watch. */
  backoff?: BackoffPolicy;
  /** Re-deliver every cached object as an update this often (0: never), like client-go's resync. */
  resyncPeriodMs?: number;
  /**
   * Called when a list or watch answers 404: the API server does not serve the resource (an API
   * group turned off, a CRD not installed or removed). The informer keeps retrying; the owner decides.
   */
  onNotServed?(): void;
}

/** A watch that ends this soon without delivering anything counts as a failure (no hot loop). */
const MIN_HEALTHY_WATCH_MS = 1000;
/** How many deleted objects' uids an informer remembers, so a late write result cannot bring one back. */
const DELETED_UIDS_KEPT = 4096;

/**
 * What the cache keeps of an object: all of it but metadata.managedFields — server-side apply's bookkeeping,
 * which no controller reads and which was 60% of a cached object's memory (bench/operator; controller-runtime
 * offers TransformStripManagedFields for the same reason) — with apiVersion and kind filled in (list items
 * come without them), so every object in the store is self-describing. A write of a cached object (a status
 * update) carries no managedFields, and the API server then keeps the ones it has.
 */
export function cacheable(ref: ResourceRef, obj: KubernetesObject): KubernetesObject {
  const { managedFields: _, ...metadata } = obj.metadata ?? {};
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(ref), kind: obj.kind ?? ref.kind, metadata };
}

export function listerWatcher(
  client: RestClient,
  ref: ResourceRef,
  opts: { watchTimeoutSeconds: number; idleTimeoutMs: number; labelSelector?: string; namespace?: string },
): ListerWatcher {
  const typed = (obj: KubernetesObject) => cacheable(ref, obj);
  return {
    list: (signal) =>
      client.scoped({ signal }).list(ref, { labelSelector: opts.labelSelector, namespace: opts.namespace }, typed),
    watch: (resourceVersion, onEvent, signal) =>
      client.watch(
        ref,
        {
          resourceVersion,
          namespace: opts.namespace,
          labelSelector: opts.labelSelector,
          timeoutSeconds: opts.watchTimeoutSeconds,
          idleTimeoutMs: opts.idleTimeoutMs,
          signal,
        },
        (e) => onEvent({ type: e.type, object: typed(e.object) }),
      ),
  };
}

export class Informer {
  readonly store = new Store();
  private readonly handlers: InformerHandlers[] = [];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private synced = false;
  private failure: unknown;
  /** Uids of objects seen deleted, oldest first (bounded). */
  private readonly deletedUids = new Set<string>();
  private markSynced!: (synced: boolean) => void;
  private readonly syncedPromise = new Promise<boolean>((resolve) => (this.markSynced = resolve));

  constructor(
    readonly resource: ResourceRef,
    private readonly source: ListerWatcher,
    private readonly opts: InformerOptions,
  ) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger.child({ informer: resource.plural, group: resource.group });
    this.backoff = opts.backoff ?? { baseMs: 200, maxMs: 10_000 };
  }

  /** The latest list/watch failure since the last successful list, for the "did not sync" report. */
  get lastError(): unknown {
    return this.failure;
  }

  addHandlers(handlers: InformerHandlers): void {
    this.handlers.push(handlers);
  }

  start(): void {
    this.loop ??= Promise.all([this.run(), this.resyncLoop()]).then(() => undefined);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once the first list is in the store, false if the informer stops first. */
  whenSynced(): Promise<boolean> {
    return this.syncedPromise;
  }

  /**
   * Read your own writes: puts a write's result into the store before the watch delivers it, where that
   * cannot hide a newer state — a create whose object the store has neither seen nor seen deleted, or an
   * update conditioned on (`basedOn`) the resourceVersion the store still holds, which the API server
   * accepted, so the result is the newest version there is. No handlers run: the watch event that
   * follows runs them, as for any change. Returns whether the store took it.
   */
  recordWrite(obj: KubernetesObject, basedOn: string | undefined): boolean {
    if (!this.synced) return false;
    const current = this.store.get(objectKeyOf(obj));
    const accepted =
      basedOn === undefined
        ? !current && !this.deletedUids.has(obj.metadata?.uid ?? '')
        : current !== undefined && current.metadata?.resourceVersion === basedOn;
    // A copy the caller cannot change, made with JSON rather than structuredClone: structuredClone's objects
    // belong to the main realm, and under jest (a vm context) isDeepStrictEqual then told an unchanged status
    // from the cached one as different, and every resync wrote it again.
    if (accepted) this.store.upsert(JSON.parse(JSON.stringify(cacheable(this.resource, obj))) as KubernetesObject);
    return accepted;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.markSynced(false);
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let resourceVersion: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) resourceVersion = await this.relist(signal);
        const started = this.clock.monotonicMs();
        let delivered = 0;
        await this.source.watch(
          resourceVersion,
          (event) => {
            delivered++;
            resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
            this.apply(event);
          },
          signal,
        );
        if (delivered > 0 || this.clock.monotonicMs() - started >= MIN_HEALTHY_WATCH_MS) {
          failures = 0;
          continue; // the server closed a healthy watch (its timeout): resume from where it ended
        }
        throw new Error('watch closed before delivering anything');
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof GoneError) {
          this.log.info({ resourceVersion }, 'resourceVersion expired (410); relisting');
          resourceVersion = undefined;
          continue;
        }
        if (isNotFound(err)) this.opts.onNotServed?.();
        if (signal.aborted) break;
        this.failure = err;
        const delay = withJitter(exponentialDelayMs(this.backoff, failures++));
        this.log.warn({ err: String(err), retryInMs: Math.round(delay), failures }, 'list/watch failed; retrying');
        await sleep(this.clock, delay, signal);
      }
    }
  }

  /** Replaces the store with a fresh list, emitting add/update/delete for what changed. Returns the list's resourceVersion. */
  private async relist(signal: AbortSignal): Promise<string> {
    const list = await this.source.list(signal);
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = objectKeyOf(obj);
      seen.add(keyToString(key));
      const previous = this.store.get(key);
      if (previous?.metadata?.resourceVersion === obj.metadata?.resourceVersion) continue;
      this.store.upsert(obj);
      this.emit((h) => (previous ? h.onUpdate?.(previous, obj) : h.onAdd?.(obj)));
    }
    for (const obj of this.store.list()) {
      const key = objectKeyOf(obj);
      if (seen.has(keyToString(key))) continue;
      this.store.remove(key);
      this.rememberDeleted(obj);
      this.emit((h) => h.onDelete?.(obj));
    }
    this.failure = undefined;
    if (!this.synced) {
      this.synced = true;
      this.markSynced(true);
      this.log.debug({ objects: list.items.length }, 'synced');
    }
    const rv = list.metadata?.resourceVersion;
    if (!rv) throw new Error('list response has no resourceVersion');
    return rv;
  }

  private apply({ type, object }: WatchEvent): void {
    if (type === 'BOOKMARK') return;
    if (type === 'DELETED') {
      const previous = this.store.remove(objectKeyOf(object));
      this.rememberDeleted(object);
      this.emit((h) => h.onDelete?.(previous ?? object));
      return;
    }
    const previous = this.store.upsert(object);
    this.emit((h) => (previous ? h.onUpdate?.(previous, object) : h.onAdd?.(object)));
  }

  private rememberDeleted(obj: KubernetesObject): void {
    const uid = obj.metadata?.uid;
    if (!uid) return;
    this.deletedUids.add(uid);
    if (this.deletedUids.size > DELETED_UIDS_KEPT) this.deletedUids.delete(this.deletedUids.values().next().value!);
  }

  private async resyncLoop(): Promise<void> {
    const period = this.opts.resyncPeriodMs ?? 0;
    if (period <= 0 || !(await this.whenSynced())) return;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await sleep(this.clock, period, signal);
      if (signal.aborted) break;
      for (const obj of this.store.list()) this.emit((h) => h.onUpdate?.(obj, obj));
    }
  }

  /** A throwing handler is logged, never allowed to stop the informer. */
  private emit(call: (handlers: InformerHandlers) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (err) {
        this.log.error({ err }, 'event handler threw');
      }
    }
  }
}
