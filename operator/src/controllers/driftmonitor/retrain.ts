// Pure builder of the retraining TrainingJob a breach starts: the monitor's template, made safe to run
// more than once (its own output path and version) and gated so that the new model must beat the
// stable version before it is registered. Labels, an annotation and the owner reference link it back
// to the DriftMonitor; the ModelVersion it registers names it in spec.lineage.trainingJob.
import { createHash } from 'node:crypto';
import { resources, type DriftMonitor, type MetricGate, type RegisterSpec, type TrainingJob } from '../../api/index.js';
import { controllerReference, type KubernetesObject } from '../../runtime/index.js';
import { LABEL_DRIFTMONITOR, LABEL_MODEL } from '../trainingjob/register.js';

export { LABEL_DRIFTMONITOR };

export const ANNOTATION_DRIFT_REASON = 'modelops.dev/drift-reason';

/** A ModelVersion's spec.version is at most 40 characters and defaults to the TrainingJob's name. */
const MAX_NAME = 40;

/** `<monitor>-retrain-<n>`, shortened with a hash of the monitor's name when it would not fit. */
export function retrainingJobName(dm: DriftMonitor, run: number): string {
  const suffix = `-retrain-${run}`;
  const name = dm.metadata.name;
  if (name.length + suffix.length <= MAX_NAME) return `${name}${suffix}`;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 6);
  const head = name.slice(0, MAX_NAME - suffix.length - hash.length - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}${suffix}`;
}

/** The gate against the stable version: the template's own, else its first gate metric's direction. */
export function mustBeatStable(register: RegisterSpec): NonNullable<RegisterSpec['mustBeatStable']> | undefined {
  if (register.mustBeatStable) return register.mustBeatStable;
  const first: MetricGate | undefined = register.gate?.[0];
  return first ? { metric: first.metric, higherIsBetter: first.operator.startsWith('>') } : undefined;
}

export function buildRetrainingJob(dm: DriftMonitor, run: number, reason: string): TrainingJob {
  const template = dm.spec.actions!.retrain!.template;
  const name = retrainingJobName(dm, run);
  const register = template.register!;
  const beat = mustBeatStable(register);
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'TrainingJob',
    metadata: {
      name,
      namespace: dm.metadata.namespace,
      labels: {
        'app.kubernetes.io/managed-by': 'modelops',
        [LABEL_DRIFTMONITOR]: dm.metadata.name,
        [LABEL_MODEL]: dm.spec.model,
      },
      annotations: { [ANNOTATION_DRIFT_REASON]: reason.slice(0, 1024) },
      ownerReferences: [controllerReference(resources.DriftMonitor, dm as DriftMonitor & KubernetesObject)],
    },
    spec: {
      ...template,
      // Each run writes beside the others, never over the model being served.
      output: { ...template.output, uri: `${template.output.uri.replace(/\/+$/, '')}/${name}` },
      register: { ...register, ...(beat ? { mustBeatStable: beat } : {}) },
    },
  };
}
