// Builders of TrainingJobs, Jobs, pods and reports for the controller's unit tests.
import type { TrainingJob, TrainingJobSpec } from '../../api/index.js';
import type { Job, Pod } from '../resources.js';
import { COMPLETION_INDEX_ANNOTATION, TRAINER_CONTAINER } from './job.js';

export function trainingJob(spec: Partial<TrainingJobSpec> = {}, name = 'fraud-1'): TrainingJob {
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'TrainingJob',
    metadata: { name, namespace: 'ml', uid: 'uid-1', generation: 1 },
    spec: {
      image: 'ghcr.io/modelops/training:0.1.0',
      dataset: { uri: 'synthetic://fraud?rows=1000&seed=7', version: 'v3' },
      output: { uri: 'pvc://models/fraud' },
      nodes: 1,
      ...spec,
    },
  };
}

export function job(status: Job['status'] = {}, spec: Partial<NonNullable<Job['spec']>> = {}): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'fraud-1', namespace: 'ml' },
    spec: { template: {}, ...spec },
    status,
  };
}

export const complete = {
  conditions: [{ type: 'Complete', status: 'True' }],
  succeeded: 1,
  startTime: '2026-01-01T00:00:00Z',
  completionTime: '2026-01-01T00:10:00Z',
};

export const failed = (reason: string, message?: string) => ({
  conditions: [{ type: 'Failed', status: 'True', reason, ...(message ? { message } : {}) }],
});

export interface PodOptions {
  terminated?: { exitCode: number; reason?: string; message?: string; finishedAt?: string };
  waiting?: { reason: string; message?: string };
  /** The completion index (rank) of an Indexed Job's pod. */
  index?: number;
  name?: string;
}

let pods = 0;
export function pod(phase: string, opts: PodOptions = {}): Pod {
  const { terminated, waiting, index = 0 } = opts;
  return {
    metadata: {
      name: opts.name ?? `fraud-1-${index}-${++pods}`,
      namespace: 'ml',
      labels: { 'modelops.dev/trainingjob': 'fraud-1' },
      annotations: { [COMPLETION_INDEX_ANNOTATION]: String(index) },
    },
    status: {
      phase,
      containerStatuses: [
        {
          name: TRAINER_CONTAINER,
          image: 'x',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: terminated ? { terminated } : waiting ? { waiting } : { running: {} },
        },
      ],
    },
  };
}

export const report = (metrics: Record<string, unknown>, artifact = '/output/fraud/model.onnx') =>
  JSON.stringify({
    metrics,
    artifact: { uri: artifact, digest: 'sha256:' + 'a'.repeat(64) },
    reference: { uri: '/output/fraud/reference.json', digest: 'sha256:' + 'b'.repeat(64) },
  });

export const REPORT = report({ val_auc: 0.97, val_accuracy: 0.99, val_loss: 0.05 });
