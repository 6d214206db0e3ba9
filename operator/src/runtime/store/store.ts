// The informer's in-memory copy of one resource: objects by "namespace/name", indexed by namespace
// and by any index a controller declares (client-go's Indexers: e.g. ModelVersions by spec.model).
// Objects are deep-frozen on the way in: every controller shares them, so a stray mutation would
// silently corrupt everyone's view — freezing turns that bug into an immediate TypeError.
import { compileSelector, type LabelSelector } from './label-selector.js';
import { keyToString, objectKeyOf, type KubernetesObject, type ObjectKey } from '../types.js';

/** The values an object is indexed under (none: not in the index). Must be pure. */
export type IndexFunc = (obj: KubernetesObject) => string[];

/** Selects objects from a store; every given criterion must hold. */
export interface StoreQuery {
  namespace?: string;
  labelSelector?: LabelSelector;
  /** Objects an index files under this value (the index must have been declared). */
  index?: { name: string; value: string };
}

const NAMESPACE_INDEX = '\0namespace';
const namespaceOf: IndexFunc = (obj) => [obj.metadata?.namespace ?? ''];

export class Store<T extends KubernetesObject = KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc>([[NAMESPACE_INDEX, namespaceOf]]);
  /** index name → value → keys */
  private readonly indices = new Map<string, Map<string, Set<string>>>([[NAMESPACE_INDEX, new Map()]]);

  /** Declares an index; objects already stored are indexed at once. */
  addIndex(name: string, keys: IndexFunc): void {
    if (this.indexers.has(name)) throw new Error(`index ${name} already exists`);
    this.indexers.set(name, keys);
    this.indices.set(name, new Map());
    for (const [key, obj] of this.objects) this.indexOne(name, key, obj);
  }

  hasIndex(name: string): boolean {
    return this.indexers.has(name);
  }

  get(key: ObjectKey): T | undefined {
    return this.objects.get(keyToString(key));
  }

  list(query: StoreQuery = {}): T[] {
    const matches = compileSelector(query.labelSelector);
    let keys: Iterable<string> = this.objects.keys();
    if (query.index) keys = this.lookup(query.index.name, query.index.value);
    if (query.namespace !== undefined) {
      const inNamespace = this.lookup(NAMESPACE_INDEX, query.namespace);
      keys = query.index ? [...keys].filter((k) => inNamespace.has(k)) : inNamespace;
    }
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.objects.get(key);
      if (obj && matches(obj.metadata?.labels ?? {})) out.push(obj);
    }
    return out;
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined {
    const key = keyToString(objectKeyOf(obj));
    const previous = this.objects.get(key);
    if (previous) this.unindex(key, previous);
    const frozen = deepFreeze(obj);
    this.objects.set(key, frozen);
    for (const name of this.indexers.keys()) this.indexOne(name, key, frozen);
    return previous;
  }

  /** Removes; returns the object that was stored, if any. */
  remove(key: ObjectKey): T | undefined {
    const k = keyToString(key);
    const previous = this.objects.get(k);
    if (!previous) return undefined;
    this.objects.delete(k);
    this.unindex(k, previous);
    return previous;
  }

  /** Removes everything, silently (the resource stopped being served). */
  clear(): void {
    this.objects.clear();
    for (const index of this.indices.values()) index.clear();
  }

  private lookup(name: string, value: string): Set<string> {
    const index = this.indices.get(name);
    if (!index) throw new Error(`no index named ${name}: declare it in a controller's indexes`);
    return index.get(value) ?? new Set();
  }

  private indexOne(name: string, key: string, obj: T): void {
    const index = this.indices.get(name)!;
    for (const value of new Set(this.indexers.get(name)!(obj))) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, keysOf] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const value of keysOf(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  // Object.isFrozen is true of every primitive, null and undefined: only objects not frozen yet are walked.
  if (!Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}
