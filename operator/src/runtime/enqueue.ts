// Which reconcile keys a watched object's change should enqueue — no I/O; a map may read the cache.
//   for:     the object itself, or the keys the controller's `for` map returns (one key per model)
//   owns:    the object's controller owner, if it is of the reconciled kind (a TrainingJob owns Jobs),
//            and through the `for` map when there is one (a Deployment → its ModelVersion → the model)
//   watches: whatever an arbitrary map function returns
import type { Cache } from './store/cache.js';
import { apiVersionOf, objectKeyOf, type KubernetesObject, type ObjectKey, type ResourceRef } from './types.js';

/** From a changed object to the reconcile keys it concerns. May read the cache; must not do I/O. */
export type MapFunc = (obj: KubernetesObject, cache: Cache) => ObjectKey[];

export const mapToSelf: MapFunc = (obj) => [objectKeyOf(obj)];

/**
 * Maps an object to its controller owner (ownerReferences[].controller === true) when that owner
 * is an `owner`-kind object. Owners of other kinds, and non-controller owners, are ignored.
 * A namespaced owner lives in its dependent's namespace (cross-namespace owners are not allowed).
 * With `ownerKeys`, the owner is read from the cache and mapped on (an owner already gone maps to
 * nothing: its own delete event has enqueued its keys; so does every owner before that cache has synced).
 */
export function mapToControllerOwner(owner: ResourceRef, ownerKeys?: MapFunc): MapFunc {
  const group = owner.group;
  return (obj, cache) => {
    const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
    if (!ref || ref.kind !== owner.kind || groupOf(ref.apiVersion) !== group) return [];
    const namespace = obj.metadata?.namespace;
    const key = owner.namespaced && namespace ? { namespace, name: ref.name } : { name: ref.name };
    if (!ownerKeys) return [key];
    // Until the owners' cache has synced, their initial list enqueues every owner's keys anyway (a start
    // with 2000 ModelVersions logged 4000 "event handler threw" for the Deployments and Services listed first).
    if (!cache.isAvailable(owner)) return [];
    const ownerObj = cache.get(owner, key);
    return ownerObj && ownerObj.metadata?.uid === ref.uid ? ownerKeys(ownerObj, cache) : [];
  };
}

/** Owner references match on group and kind, not version: an owner written as v1beta1 is still the owner. */
function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** An ownerReference that makes `owner` the controller of a dependent (for create/apply). */
export function controllerReference(ownerRef: ResourceRef, owner: KubernetesObject) {
  const { name, uid } = owner.metadata ?? {};
  if (!name || !uid) throw new Error('owner needs metadata.name and metadata.uid');
  return {
    apiVersion: apiVersionOf(ownerRef),
    kind: ownerRef.kind,
    name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
