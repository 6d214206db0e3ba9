// The modelops.dev/v1alpha1 API: schemas, TypeScript types and resource references.
import type { Static } from './schema.js';
import type { KubernetesObject, ObjectMeta } from '../runtime/index.js';
import { GROUP, VERSION } from './common.js';
import { trainingJobDefinition, type TrainingJobSpec, type TrainingJobStatus } from './trainingjob.js';
import { modelVersionDefinition, type ModelVersionSpec, type ModelVersionStatus } from './modelversion.js';
import { driftMonitorDefinition, type DriftMonitorSpec, type DriftMonitorStatus } from './driftmonitor.js';

export * from './common.js';
export { DEFAULT_SERVING_IMAGE, DEFAULT_STEPS, ROLLOUT_DEFAULTS } from './modelversion.js';
export type {
  AnalysisSpec,
  CheckResult,
  ModelVersionPhase,
  ModelVersionServingSpec,
  Role,
  Verdict,
} from './modelversion.js';
export { parsePvcUri, pvcUri, type PvcLocation } from './pvc-uri.js';
export { resources } from './resources.js';
export { MODEL_INDEX, modelVersionsByModel } from './indexes.js';
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
