// Pure builder of the ModelVersion a successful, gated run registers.
import type { ModelVersion, TrainingJob } from '../../api/index.js';
import type { TrainingReport } from './report.js';
import { LABEL_TRAININGJOB } from './job.js';

export const LABEL_MODEL = 'modelops.dev/model';
/** Set on a retraining run by the DriftMonitor that started it; the registered version carries it on. */
export const LABEL_DRIFTMONITOR = 'modelops.dev/driftmonitor';

export const registeredVersion = (tj: TrainingJob) => tj.spec.register?.version ?? tj.metadata.name;
export const modelVersionName = (tj: TrainingJob) => `${tj.spec.register!.modelName}-${registeredVersion(tj)}`;

/** Turns the artifact path the container saw back into a URI the serving pods can mount. */
export function artifactUri(tj: TrainingJob, containerPath: string): string {
  const pvc = /^pvc:\/\/([^/]+)/.exec(tj.spec.output.uri);
  return pvc && containerPath.startsWith('/output')
    ? `pvc://${pvc[1]}${containerPath.slice('/output'.length)}`
    : containerPath;
}

export function buildModelVersion(tj: TrainingJob, report: TrainingReport): ModelVersion {
  const register = tj.spec.register!;
  const artifact = report.artifact!;
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'ModelVersion',
    // Not owned by the TrainingJob: deleting a finished run must not take a served model down.
    metadata: {
      name: modelVersionName(tj),
      namespace: tj.metadata.namespace,
      labels: {
        [LABEL_MODEL]: register.modelName,
        [LABEL_TRAININGJOB]: tj.metadata.name,
        ...(tj.metadata.labels?.[LABEL_DRIFTMONITOR]
          ? { [LABEL_DRIFTMONITOR]: tj.metadata.labels[LABEL_DRIFTMONITOR] }
          : {}),
        'app.kubernetes.io/managed-by': 'modelops',
      },
    },
    spec: {
      model: register.modelName,
      version: registeredVersion(tj),
      artifact: { uri: artifactUri(tj, artifact.uri), ...(artifact.digest ? { digest: artifact.digest } : {}) },
      ...(report.reference ? { reference: { uri: artifactUri(tj, report.reference.uri) } } : {}),
      ...(register.serving ? { serving: register.serving } : {}),
      lineage: {
        trainingJob: tj.metadata.name,
        image: tj.spec.image,
        datasetUri: tj.spec.dataset.uri,
        ...(tj.spec.dataset.version ? { datasetVersion: tj.spec.dataset.version } : {}),
        metrics: report.metrics,
      },
    },
  };
}
