// The vocabulary every other runtime file speaks: which resource, which object, and the JSON shape
// of an object as the API server sends it (timestamps stay strings; nothing is deserialised).

/** Identifies a resource type. `group` is '' for the core group (pods, events, ...). */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

/** Identifies one object. `namespace` is absent for cluster-scoped objects. */
export interface ObjectKey {
  namespace?: string;
  name: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [field: string]: unknown;
}

/** Any Kubernetes object as JSON. Objects read from the cache are frozen: copy before changing. */
export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/**
 * A client-node model type as it travels over the wire: JSON, so timestamps are strings, not the
 * `Date`s the generated classes declare. `Wire<V1Job>` is a KubernetesObject without casts.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export interface ObjectList<T extends KubernetesObject = KubernetesObject> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

export function apiVersionOf(ref: ResourceRef): string {
  return ref.group === '' ? ref.version : `${ref.group}/${ref.version}`;
}

/** A stable id for a resource type, used to share one informer between controllers. */
export function resourceId(ref: ResourceRef): string {
  return `${ref.group}/${ref.version}/${ref.plural}`;
}

/** How people name a resource type: `jobs.batch/v1`, `pods/v1`. */
export function resourceName(ref: ResourceRef): string {
  return `${ref.plural}${ref.group ? `.${ref.group}` : ''}/${ref.version}`;
}

export function objectKeyOf(obj: KubernetesObject): ObjectKey {
  const name = obj.metadata?.name;
  if (!name) throw new Error('object has no metadata.name');
  const namespace = obj.metadata?.namespace;
  return namespace ? { namespace, name } : { name };
}

/** "namespace/name", or "name" for cluster-scoped objects: the work queue's and the store's key. */
export function keyToString(key: ObjectKey): string {
  return key.namespace ? `${key.namespace}/${key.name}` : key.name;
}

export function keyFromString(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
