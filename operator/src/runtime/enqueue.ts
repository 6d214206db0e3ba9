// Which reconcile keys a watched object's change should enqueue — pure mapping, no I/O.
//   for:     the object itself
//   owns:    the object's controller owner, if it is of the reconciled kind (a TrainingJob owns Jobs)
//   watches: whatever an arbitrary map function returns
import { apiVersionOf, objectKeyOf, type KubernetesObject, type ObjectKey, type ResourceRef } from './types.js';

export type KeyMapper = (obj: KubernetesObject) => ObjectKey[];

export function mapToSelf(): KeyMapper {
  return (obj) => [objectKeyOf(obj)];
}

/**
 * Maps an object to its controller owner (ownerReferences[].controller === true) when that owner
 * is an `owner`-kind object. Owners of other kinds, and non-controller owners, are ignored.
 * A namespaced owner lives in its dependent's namespace (cross-namespace owners are not allowed).
 */
export function mapToControllerOwner(owner: ResourceRef): KeyMapper {
  const group = owner.group;
  return (obj) => {
    const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
    if (!ref || ref.kind !== owner.kind || groupOf(ref.apiVersion) !== group) return [];
    const namespace = obj.metadata?.namespace;
    return [owner.namespaced && namespace ? { namespace, name: ref.name } : { name: ref.name }];
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
