// All the informers of one resource type, shared by every controller that names it: one per
// watched namespace (namespace-scoped operators need only Roles there) or one for the whole
// cluster. Handlers and indexes are declared once and apply to each. An optional resource runs only
// while the API server serves it: the Manager starts it when discovery finds it and it stops itself
// (`onNotServed`) when its list or watch answers 404.
import type { IndexFunc, StoreQuery } from './store/store.js';
import { compileSelector } from './store/label-selector.js';
import type { Informer, InformerHandlers } from './informer.js';
import { resourceName, type KubernetesObject, type ObjectKey, type ResourceRef } from './types.js';

/** Makes a fresh informer for one namespace (undefined: all namespaces). */
export type InformerFactory = (namespace: string | undefined, onNotServed: () => void) => Informer;

export type ResourceState = 'stopped' | 'running' | 'unserved';

export class ResourceInformer {
  private readonly handlers: InformerHandlers[] = [];
  private readonly indexes = new Map<string, IndexFunc>();
  private informers = new Map<string | undefined, Informer>();
  private current: ResourceState = 'stopped';
  private selects: ((labels: Record<string, string>) => boolean) | undefined;
  /** Required unless every controller that names it marks it optional. */
  optional = true;

  constructor(
    readonly ref: ResourceRef,
    readonly labelSelector: string | undefined,
    /** The namespaces to watch; undefined: the whole cluster (also for cluster-scoped resources). */
    private readonly namespaces: string[] | undefined,
    private readonly newInformer: InformerFactory,
    /** Told when an optional resource stops being served. */
    private readonly onUnserved: (resource: ResourceInformer) => void,
  ) {}

  get state(): ResourceState {
    return this.current;
  }

  addHandlers(handlers: InformerHandlers): void {
    this.handlers.push(handlers);
    for (const informer of this.informers.values()) informer.addHandlers(handlers);
  }

  /** Declares an index; the same name twice must be the same function (share it, e.g. from the API package). */
  addIndex(name: string, keys: IndexFunc): void {
    const existing = this.indexes.get(name);
    if (existing && existing !== keys)
      throw new Error(`${resourceName(this.ref)} already has an index named ${name} with another function`);
    this.indexes.set(name, keys);
    for (const informer of this.informers.values())
      if (!informer.store.hasIndex(name)) informer.store.addIndex(name, keys);
  }

  start(): void {
    if (this.current === 'running') return;
    this.current = 'running';
    const scopes = this.ref.namespaced && this.namespaces ? this.namespaces : [undefined];
    this.informers = new Map(scopes.map((ns) => [ns, this.make(ns)]));
    for (const informer of this.informers.values()) informer.start();
  }

  async stop(state: 'stopped' | 'unserved' = 'stopped'): Promise<void> {
    this.current = state;
    const informers = [...this.informers.values()];
    this.informers = new Map();
    await Promise.all(informers.map((i) => i.stop()));
  }

  hasSynced(): boolean {
    return this.current === 'running' && [...this.informers.values()].every((i) => i.hasSynced());
  }

  /** Resolves true once every informer has synced, false if the resource stops (or stops being served) first. */
  async whenSynced(): Promise<boolean> {
    const informers = [...this.informers.values()];
    if (this.current !== 'running') return false;
    return (await Promise.all(informers.map((i) => i.whenSynced()))).every(Boolean);
  }

  /** Why it has not synced, for the error after the sync timeout. */
  lastError(): unknown {
    return [...this.informers.values()].map((i) => i.lastError).find((e) => e !== undefined);
  }

  /** A write's result, for the store of the object's namespace if it is cached here (see Informer.recordWrite). */
  recordWrite(obj: KubernetesObject, basedOn: string | undefined): boolean {
    // Stopped, it has no informers, so nothing is recorded.
    if (!this.matchesSelector(obj)) return false;
    const informer = this.ref.namespaced && this.namespaces ? this.informers.get(obj.metadata?.namespace) : this.sole();
    return informer?.recordWrite(obj, basedOn) ?? false;
  }

  get(key: ObjectKey): KubernetesObject | undefined {
    const informer = this.ref.namespaced && this.namespaces ? this.informers.get(key.namespace) : this.sole();
    return informer?.store.get(key);
  }

  list(query: StoreQuery = {}): KubernetesObject[] {
    if (!(this.ref.namespaced && this.namespaces)) return this.sole()?.store.list(query) ?? [];
    if (query.namespace !== undefined) return this.informers.get(query.namespace)?.store.list(query) ?? [];
    return [...this.informers.values()].flatMap((i) => i.store.list(query));
  }

  private matchesSelector(obj: KubernetesObject): boolean {
    this.selects ??= compileSelector(this.labelSelector);
    return this.selects(obj.metadata?.labels ?? {});
  }

  private sole(): Informer | undefined {
    return this.informers.get(undefined);
  }

  private make(namespace: string | undefined): Informer {
    const informer = this.newInformer(namespace, () => {
      // Only the informers of this generation may stop it (stopped, it has none); a stale callback is ignored.
      if (!this.optional || this.informers.get(namespace) !== informer) return;
      void this.stop('unserved').then(() => this.onUnserved(this));
    });
    for (const [name, keys] of this.indexes) informer.store.addIndex(name, keys);
    for (const handlers of this.handlers) informer.addHandlers(handlers);
    return informer;
  }
}
