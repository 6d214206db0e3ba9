// Builders of TrainingJobs, Jobs and pods for the controller's unit tests.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { TrainingJob, TrainingJobSpec } from '../../api/index.js';

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

export function job(status: V1Job['status'] = {}, spec: Partial<NonNullable<V1Job['spec']>> = {}): V1Job {
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
  startTime: new Date('2026-01-01T00:00:00Z'),
  completionTime: new Date('2026-01-01T00:10:00Z'),
};

export function pod(
  phase: string,
  terminated?: { exitCode: number; reason?: string; message?: string; finishedAt?: Date },
  waiting?: { reason: string; message?: string },
): V1Pod {
  return {
    metadata: {
      name: `fraud-1-${Math.random().toString(36).slice(2, 7)}`,
      annotations: { 'batch.kubernetes.io/job-completion-index': '0' },
    },
    status: {
      phase,
      containerStatuses: [
        {
          name: 'trainer',
          image: 'x',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: terminated ? { terminated: terminated as never } : waiting ? { waiting } : { running: {} },
        },
      ],
    },
  };
}

export const REPORT = JSON.stringify({
  metrics: { val_auc: 0.97, val_accuracy: 0.99, val_loss: 0.05 },
  artifact: { uri: '/output/fraud/model.onnx', digest: 'sha256:' + 'a'.repeat(64) },
  reference: { uri: '/output/fraud/reference.json', digest: 'sha256:' + 'b'.repeat(64) },
});
