// References to the built-in resources the controllers create and read.
import type { ResourceRef } from '../runtime/index.js';

export const JOB: ResourceRef = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };
export const POD: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
export const SERVICE: ResourceRef = { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true };
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
