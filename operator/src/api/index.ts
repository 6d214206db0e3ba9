// The modelops.dev/v1alpha1 API: schemas, TypeScript types and resource references.
import type { Static } from './schema.js';
import type { KubernetesObject, ObjectMeta, ResourceRef } from '../runtime/index.js';
import { GROUP, VERSION } from './common.js';
import { trainingJobDefinition, type TrainingJobSpec, type TrainingJobStatus } from './trainingjob.js';
import { modelVersionDefinition, type ModelVersionSpec, type ModelVersionStatus } from './modelversion.js';
import { driftMonitorDefinition, type DriftMonitorSpec, type DriftMonitorStatus } from './driftmonitor.js';

export * from './common.js';
export { DEFAULT_SERVING_IMAGE } from './modelversion.js';
export { DRIFT_METHODS } from './driftmonitor.js';
export type { DriftAction, DriftMethod, SeriesVerdict, Severity, VersionVerdict } from './driftmonitor.js';
export type { MetricGate, RegisterSpec } from './trainingjob.js';
export type { Static };

export const definitions = [trainingJobDefinition, modelVersionDefinition, driftMonitorDefinition];

/** Objects of these kinds always have a name and a namespace. */
type Metadata = ObjectMeta & { name: string; namespace: string };

/** One shape with the runtime's KubernetesObject: the cache and client take these types as they are. */
interface Resource<Kind extends string, Spec, Status> extends KubernetesObject {
  apiVersion: `${typeof GROUP}/${typeof VERSION}`;
  kind: Kind;
  metadata: Metadata;
  spec: Spec;
  status?: Status;
}

export type TrainingJob = Resource<'TrainingJob', TrainingJobSpec, TrainingJobStatus>;
export type ModelVersion = Resource<'ModelVersion', ModelVersionSpec, ModelVersionStatus>;
export type DriftMonitor = Resource<'DriftMonitor', DriftMonitorSpec, DriftMonitorStatus>;
export type {
  TrainingJobSpec,
  TrainingJobStatus,
  ModelVersionSpec,
  ModelVersionStatus,
  DriftMonitorSpec,
  DriftMonitorStatus,
};

/** References the runtime's informers and client take, one per kind. */
export const resources: Record<'TrainingJob' | 'ModelVersion' | 'DriftMonitor', ResourceRef> = {
  TrainingJob: { group: GROUP, version: VERSION, plural: 'trainingjobs', kind: 'TrainingJob', namespaced: true },
  ModelVersion: { group: GROUP, version: VERSION, plural: 'modelversions', kind: 'ModelVersion', namespaced: true },
  DriftMonitor: { group: GROUP, version: VERSION, plural: 'driftmonitors', kind: 'DriftMonitor', namespaced: true },
};
