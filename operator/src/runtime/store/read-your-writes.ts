// Read your own writes. A reconcile that wrote an object and runs again before the watch has delivered
// that write would read the old version from the cache: its next status write fails with a conflict,
// or it creates again what it has just created. So each controller's client passes the result of a
// successful create, and of an update conditioned on a resourceVersion, to the cache at once (the
// informer takes it only where that cannot hide a newer state: Informer.recordWrite). client-go's
// MutationCache does the same for the controllers that need it.
import type { ApplyOptions, Client, ListOptions, PatchType, PropagationPolicy } from '../client.js';
import type { KubernetesObject, ObjectKey, ObjectList, ResourceRef } from '../types.js';
import type { InformerCache } from './cache.js';

type Obj = KubernetesObject;

export class ReadYourWritesClient implements Client {
  constructor(
    private readonly client: Client,
    private readonly cache: InformerCache,
  ) {}

  get<T extends Obj = Obj>(ref: ResourceRef, key: ObjectKey): Promise<T> {
    return this.client.get<T>(ref, key);
  }

  list<T extends Obj = Obj>(ref: ResourceRef, opts?: ListOptions): Promise<ObjectList<T>> {
    return this.client.list<T>(ref, opts);
  }

  async create<T extends Obj = Obj>(ref: ResourceRef, obj: T): Promise<T> {
    return this.record(ref, await this.client.create(ref, obj), undefined);
  }

  async update<T extends Obj = Obj>(ref: ResourceRef, obj: T): Promise<T> {
    return this.record(ref, await this.client.update(ref, obj), obj.metadata?.resourceVersion ?? null);
  }

  async updateStatus<T extends Obj = Obj>(ref: ResourceRef, obj: T): Promise<T> {
    return this.record(ref, await this.client.updateStatus(ref, obj), obj.metadata?.resourceVersion ?? null);
  }

  async patch<T extends Obj = Obj>(ref: ResourceRef, key: ObjectKey, patch: unknown, type?: PatchType): Promise<T> {
    // A merge patch that carries metadata.resourceVersion is conditioned on it, like an update. A JSON patch
    // is an array of operations, with no metadata: even one that tests the resourceVersion is left to the watch.
    const basedOn = (patch as Obj | null)?.metadata?.resourceVersion;
    return this.record(ref, await this.client.patch<T>(ref, key, patch, type), basedOn ?? null);
  }

  apply<T extends Obj = Obj>(ref: ResourceRef, obj: T, opts?: ApplyOptions): Promise<T> {
    return this.client.apply(ref, obj, opts);
  }

  applyStatus<T extends Obj = Obj>(ref: ResourceRef, obj: T, opts?: ApplyOptions): Promise<T> {
    return this.client.applyStatus(ref, obj, opts);
  }

  delete(ref: ResourceRef, key: ObjectKey, opts?: { propagationPolicy?: PropagationPolicy }): Promise<void> {
    return this.client.delete(ref, key, opts);
  }

  /** `basedOn`: undefined for a create, the resourceVersion an update was conditioned on, null when it was not. */
  private record<T extends Obj>(ref: ResourceRef, result: T, basedOn: string | undefined | null): T {
    if (basedOn !== null && result?.metadata) this.cache.recordWrite(ref, result, basedOn);
    return result;
  }
}
