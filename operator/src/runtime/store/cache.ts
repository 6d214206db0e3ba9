// The read side controllers use instead of GETs: one shared informer per resource type (for / owns /
// watches), queried by key, namespace, label selector or a declared index. `Cache` is the interface
// (the in-memory test cluster implements it too); `InformerCache` is the Manager's.
import { ResourceUnavailableError } from '../errors.js';
import type { ResourceInformer } from '../resource-informer.js';
import { resourceId, resourceName, type KubernetesObject, type ObjectKey, type ResourceRef } from '../types.js';
import type { LabelSelector } from './label-selector.js';

export interface ListQuery {
  /** Only this namespace. */
  namespace?: string;
  /** `{k: v}` or `'a=b,c!=d,e in (x,y),!f'`. */
  labelSelector?: LabelSelector;
  /** Only objects a declared index files under `value` (see ControllerOptions.indexes). */
  index?: { name: string; value: string };
}

export interface Cache {
  /** The cached object, or undefined when it does not exist (as far as the cache knows). Frozen: copy before changing. */
  get<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, key: ObjectKey): T | undefined;
  /** Cached objects matching every criterion of `query`. Frozen. */
  list<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, query?: ListQuery): T[];
  /**
   * Whether `ref` can be read: the API server serves it and its cache has synced. Always true for a
   * required resource once the controllers run; for an optional one, ask before reading — get/list
   * throw ResourceUnavailableError while it is unavailable.
   */
  isAvailable(ref: ResourceRef): boolean;
}

export class InformerCache implements Cache {
  private readonly resources = new Map<string, ResourceInformer>();

  /** @internal The Manager registers one ResourceInformer per resource type it watches. */
  register(resource: ResourceInformer): void {
    this.resources.set(resourceId(resource.ref), resource);
  }

  get<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, key: ObjectKey): T | undefined {
    return this.available(ref).get(key) as T | undefined;
  }

  list<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, query: ListQuery = {}): T[] {
    return this.available(ref).list(query) as T[];
  }

  isAvailable(ref: ResourceRef): boolean {
    return this.resource(ref).hasSynced();
  }

  /** @internal A write's result (see readYourWrites); ignored for resources not cached. */
  recordWrite(ref: ResourceRef, obj: KubernetesObject, basedOn: string | undefined): boolean {
    return this.resources.get(resourceId(ref))?.recordWrite(obj, basedOn) ?? false;
  }

  private available(ref: ResourceRef): ResourceInformer {
    const resource = this.resource(ref);
    if (!resource.hasSynced()) {
      const why = resource.state === 'unserved' ? 'the API server does not serve it' : 'its cache has not synced';
      throw new ResourceUnavailableError(
        `${resourceName(ref)} is not available (${why}): check cache.isAvailable first`,
      );
    }
    return resource;
  }

  private resource(ref: ResourceRef): ResourceInformer {
    const resource = this.resources.get(resourceId(ref));
    if (!resource) throw new Error(`no informer for ${resourceName(ref)}: list it in a controller's for/owns/watches`);
    return resource;
  }
}
