// The read side controllers use instead of GETs: one informer per resource type, shared by every
// controller that names it (for / owns / watches).
import type { Informer } from '../informer.js';
import { resourceId, type KubernetesObject, type ObjectKey, type ResourceRef } from '../types.js';
import type { LabelSelector } from './label-selector.js';

export class Cache {
  private readonly informers = new Map<string, Informer>();

  /** @internal The Manager registers one informer per resource it starts. */
  register(informer: Informer): void {
    this.informers.set(resourceId(informer.resource), informer);
  }

  /** The cached object, or undefined when it does not exist (as far as the informer knows). Read-only. */
  get<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, key: ObjectKey): T | undefined {
    return this.informerFor(ref).store.get(key) as T | undefined;
  }

  /** Cached objects, optionally in one namespace and matching a label selector. Read-only. */
  list<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    namespace?: string,
    labelSelector?: LabelSelector,
  ): T[] {
    return this.informerFor(ref).store.list(namespace, labelSelector) as T[];
  }

  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  private informerFor(ref: ResourceRef): Informer {
    const informer = this.informers.get(resourceId(ref));
    if (!informer) throw new Error(`no informer for ${resourceId(ref)}: list it in a controller's for/owns/watches`);
    return informer;
  }
}
