// The built-in resources the controllers create and read, and their objects as they come over the wire.
import type { V1Job, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ResourceRef, Wire } from '../runtime/index.js';

export const JOB: ResourceRef = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };
export const POD: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
export const SERVICE: ResourceRef = { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true };
/** Dynamic Resource Allocation: served from Kubernetes 1.34 (resource.k8s.io/v1), optional everywhere. */
export const RESOURCE_CLAIM_TEMPLATE: ResourceRef = {
  group: 'resource.k8s.io',
  version: 'v1',
  plural: 'resourceclaimtemplates',
  kind: 'ResourceClaimTemplate',
  namespaced: true,
};
export const DEPLOYMENT: ResourceRef = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};
export const HPA: ResourceRef = {
  group: 'autoscaling',
  version: 'v2',
  plural: 'horizontalpodautoscalers',
  kind: 'HorizontalPodAutoscaler',
  namespaced: true,
};

export type Job = Wire<V1Job>;
export type Pod = Wire<V1Pod>;
export type Service = Wire<V1Service>;
