// The informer's in-memory copy of one resource: objects by "namespace/name", indexed by namespace.
// Objects are deep-frozen on the way in: every controller shares them, so a stray mutation would
// silently corrupt everyone's view — freezing turns that bug into an immediate TypeError.
import { compileSelector, type LabelSelector } from './label-selector.js';
import { keyToString, objectKeyOf, type KubernetesObject, type ObjectKey } from '../types.js';

export class Store<T extends KubernetesObject = KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private readonly byNamespace = new Map<string, Set<string>>();

  get(key: ObjectKey): T | undefined {
    return this.objects.get(keyToString(key));
  }

  list(namespace?: string, labelSelector?: LabelSelector): T[] {
    const matches = compileSelector(labelSelector);
    const keys =
      namespace === undefined ? this.objects.keys() : (this.byNamespace.get(namespace) ?? new Set<string>()).values();
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
    this.objects.set(key, deepFreeze(obj));
    const ns = obj.metadata?.namespace ?? '';
    let keys = this.byNamespace.get(ns);
    if (!keys) this.byNamespace.set(ns, (keys = new Set()));
    keys.add(key);
    return previous;
  }

  /** Removes; returns the object that was stored, if any. */
  remove(key: ObjectKey): T | undefined {
    const k = keyToString(key);
    const previous = this.objects.get(k);
    if (!previous) return undefined;
    this.objects.delete(k);
    const ns = key.namespace ?? '';
    const keys = this.byNamespace.get(ns);
    keys?.delete(k);
    if (keys?.size === 0) this.byNamespace.delete(ns);
    return previous;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
