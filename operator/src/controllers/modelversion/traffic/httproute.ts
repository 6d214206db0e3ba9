// The parts of a Gateway API HTTPRoute (gateway.networking.k8s.io/v1) the operator reads and writes;
// @kubernetes/client-node has no type for it. https://gateway-api.sigs.k8s.io/reference/spec/#httproute
import type { KubernetesObject, ResourceRef } from '../../../runtime/index.js';

export const HTTP_ROUTE: ResourceRef = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  plural: 'httproutes',
  kind: 'HTTPRoute',
  namespaced: true,
};

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
}

export interface BackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
}

export interface HeaderMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface RouteMatch {
  path?: { type?: string; value?: string };
  headers?: HeaderMatch[];
  [field: string]: unknown;
}

export interface RouteRule {
  matches?: RouteMatch[];
  backendRefs?: BackendRef[];
  [field: string]: unknown;
}

export interface HTTPRoute extends KubernetesObject {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'HTTPRoute';
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    resourceVersion?: string;
    [field: string]: unknown;
  };
  spec: { parentRefs?: ParentReference[]; hostnames?: string[]; rules?: RouteRule[]; [field: string]: unknown };
  status?: unknown;
}

/** A backendRef to a Service of the route's namespace (group "" and kind Service are the defaults). */
export const isServiceRef = (ref: BackendRef) =>
  (ref.group ?? '') === '' && (ref.kind ?? 'Service') === 'Service' && ref.namespace === undefined;
