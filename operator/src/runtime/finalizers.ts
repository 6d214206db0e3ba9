// Finalizers through the runtime: a controller that must undo something outside its object's
// owner-reference tree (traffic routing, say) before the object goes adds a finalizer, sees the
// deletion as an update (deletionTimestamp set) — the ordinary event-driven reconcile — cleans up,
// and removes its finalizer; the API server then deletes the object. Both writes are merge patches
// conditioned on the object's resourceVersion, so a stale copy fails with ConflictError (a quiet
// requeue) instead of overwriting another controller's finalizer list.
import type { Client } from './client.js';
import { isNotFound } from './errors.js';
import { objectKeyOf, type KubernetesObject, type ResourceRef } from './types.js';

export function hasFinalizer(obj: KubernetesObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

export function isBeingDeleted(obj: KubernetesObject): boolean {
  return Boolean(obj.metadata?.deletionTimestamp);
}

export class Finalizers {
  constructor(private readonly client: Client) {}

  /**
   * Adds `finalizer` unless present (or the object is already being deleted: the API server refuses
   * new finalizers then). Returns the object as written, or `obj` when nothing had to change.
   */
  async add<T extends KubernetesObject>(ref: ResourceRef, obj: T, finalizer: string): Promise<T> {
    if (hasFinalizer(obj, finalizer) || isBeingDeleted(obj)) return obj;
    return this.write(ref, obj, [...(obj.metadata?.finalizers ?? []), finalizer]);
  }

  /**
   * Removes `finalizer` if present. Returns the object as written (with no finalizer left on a
   * deleting object, the API server deletes it right after), or undefined when it was already gone.
   */
  async remove<T extends KubernetesObject>(ref: ResourceRef, obj: T, finalizer: string): Promise<T | undefined> {
    if (!hasFinalizer(obj, finalizer)) return obj;
    try {
      return await this.write(
        ref,
        obj,
        (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private write<T extends KubernetesObject>(ref: ResourceRef, obj: T, finalizers: string[]): Promise<T> {
    const patch = { metadata: { finalizers, resourceVersion: obj.metadata?.resourceVersion } };
    return this.client.patch<T>(ref, objectKeyOf(obj), patch, 'merge');
  }
}
