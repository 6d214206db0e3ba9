// Builders of DriftMonitors, distributions and evaluations for the DriftMonitor's unit tests.
import type { DriftMonitor, DriftMonitorSpec, ModelVersion, TrainingJob } from '../../api/index.js';
import type { Distributions, Histogram } from './histograms.js';
import type { VersionEvidence } from './verdict.js';

export const EDGES = [-1, -0.5, 0.5, 1, Infinity];
export const CENTRED = [100, 200, 400, 200, 100];
/** The same feature moved right by about one standard deviation: PSI 0.99, far past 0.25. */
export const SHIFTED = [10, 50, 200, 400, 340];
/** A small move: PSI ≈ 0.03, below the 0.1 warning. */
export const NUDGED = [90, 190, 400, 210, 110];

export const histogram = (counts: number[]): Histogram => ({ upperBounds: EDGES, counts });

/** Features f0..f{n-1}, all centred, with `overrides` by name. */
export function distributions(
  n: number,
  overrides: Record<string, number[]> = {},
  prediction = CENTRED,
): Distributions {
  const features = new Map<string, Histogram>();
  for (let i = 0; i < n; i++) features.set(`f${i}`, histogram(overrides[`f${i}`] ?? CENTRED));
  return { features, prediction: histogram(prediction) };
}

export function evidence(
  live: Partial<VersionEvidence> & { samples?: number; liveDistributions?: Distributions } = {},
): VersionEvidence {
  const { samples = 1000, liveDistributions = distributions(10), ...rest } = live;
  return {
    version: 'v1',
    modelVersion: 'fraud-v1',
    role: 'stable',
    reference: distributions(10),
    live: { ...liveDistributions, samples },
    ...rest,
  };
}

export function driftMonitor(
  spec: Partial<DriftMonitorSpec> = {},
  status: DriftMonitor['status'] = undefined,
): DriftMonitor {
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'DriftMonitor',
    metadata: { name: 'fraud-drift', namespace: 'ml', uid: 'dm-uid', generation: 1 },
    spec: { model: 'fraud', ...spec },
    ...(status ? { status } : {}),
  };
}

export const retrainSpec = (
  retrain: Partial<NonNullable<NonNullable<DriftMonitorSpec['actions']>['retrain']>> = {},
) => ({
  actions: {
    retrain: {
      template: {
        image: 'ghcr.io/modelops/training:0.1.0',
        dataset: { uri: 'synthetic://fraud?rows=1000&seed=8' },
        output: { uri: 'pvc://models/fraud/retrain/' },
        register: {
          modelName: 'fraud',
          gate: [{ metric: 'val_auc', operator: '>=' as const, threshold: 0.9 }],
        },
      },
      ...retrain,
    },
  },
});

export function trainingJob(
  name: string,
  phase?: NonNullable<TrainingJob['status']>['phase'],
  status: Partial<NonNullable<TrainingJob['status']>> = {},
): TrainingJob {
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'TrainingJob',
    metadata: { name, namespace: 'ml' },
    spec: { image: 'x', dataset: { uri: 'y' }, output: { uri: 'pvc://models/z' } },
    ...(phase ? { status: { phase, ...status } } : {}),
  };
}

export function modelVersion(
  name: string,
  version: string,
  status: ModelVersion['status'] = {},
  annotations?: Record<string, string>,
): ModelVersion {
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name, namespace: 'ml', ...(annotations ? { annotations } : {}) },
    spec: { model: 'fraud', version, artifact: { uri: `pvc://models/fraud/${version}/model.onnx` } },
    status,
  };
}
