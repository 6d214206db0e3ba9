// Names, labels and annotations of the objects a model's versions run as (contract C1), in one place.
import type { ModelVersion } from '../../api/index.js';

export const LABEL_APP = 'app.kubernetes.io/name';
export const SERVING_APP = 'modelops-serving';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'modelops';
export const LABEL_MODEL = 'modelops.dev/model';
export const LABEL_VERSION = 'modelops.dev/version';
export const LABEL_MODELVERSION = 'modelops.dev/modelversion';

/** Held by every ModelVersion until its traffic has been moved away (and, for the last one, the model's routing removed). */
export const FINALIZER = 'modelops.dev/traffic';

/** One-shot actions (contract C7): a value different from the last one handled acts once. */
export const ACTIONS = ['promote', 'abort', 'retry'] as const;
export type Action = (typeof ACTIONS)[number];
export const actionAnnotation = (action: Action) => `modelops.dev/${action}`;

/** The serving container's port, and the port every Service of a model exposes. */
export const CONTAINER_PORT = 8080;
export const SERVICE_PORT = 80;

/** The version's Deployment, Service and HPA share its name (a DNS-1035 label, checked at apply). */
export const versionObjectName = (mv: ModelVersion) => mv.metadata.name;
/** The model's Service (clients call it) and, under Gateway API, its operator-owned HTTPRoute. */
export const modelServiceName = (model: string) => model;
export const routeName = (model: string) => model;

/** The labels of C1 on the version's pods (and on its Deployment, Service, HPA). */
export function versionLabels(mv: ModelVersion): Record<string, string> {
  return {
    [LABEL_APP]: SERVING_APP,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_MODEL]: mv.spec.model,
    [LABEL_VERSION]: mv.spec.version,
    [LABEL_MODELVERSION]: mv.metadata.name,
  };
}

/** Labels of the objects that belong to the model as a whole (its Service, its route). */
export function modelLabels(model: string): Record<string, string> {
  return { [LABEL_APP]: SERVING_APP, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_MODEL]: model };
}

/** Pods of one version; the Deployment's selector and the version's Service's. */
export const versionSelector = (name: string) => ({ [LABEL_MODELVERSION]: name });

/** Pods of every version of a model. */
export const modelSelector = (model: string) => ({ [LABEL_APP]: SERVING_APP, [LABEL_MODEL]: model });

export const modelUrl = (namespace: string, model: string) =>
  `http://${modelServiceName(model)}.${namespace}.svc/v2/models/${model}`;
