// The ResourceRefs of the modelops kinds: what the runtime's informers and client take.
import type { ResourceRef } from '../runtime/index.js';
import { GROUP, VERSION } from './common.js';

/** One per kind. */
export const resources: Record<'TrainingJob' | 'ModelVersion' | 'DriftMonitor', ResourceRef> = {
  TrainingJob: { group: GROUP, version: VERSION, plural: 'trainingjobs', kind: 'TrainingJob', namespaced: true },
  ModelVersion: { group: GROUP, version: VERSION, plural: 'modelversions', kind: 'ModelVersion', namespaced: true },
  DriftMonitor: { group: GROUP, version: VERSION, plural: 'driftmonitors', kind: 'DriftMonitor', namespaced: true },
};
