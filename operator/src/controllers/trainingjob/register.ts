// Registration, pure: from a succeeded run's recorded outcome, the model's stable version and
// whatever already holds the registration's name, decide what the Registered condition says and
// whether to create a ModelVersion. Decided once: a registration that happened stays; one refused
// stays refused until the spec changes (a new generation: another version, another gate).
import { findCondition, type ConditionInput, type EventType } from '../../runtime/index.js';
import type { ModelVersion, TrainingJob, TrainingJobStatus } from '../../api/index.js';
import { LABEL_TRAININGJOB } from './job.js';
import { evaluateGate } from './gate.js';

export const LABEL_MODEL = 'modelops.dev/model';
/** Set on a retraining run by the DriftMonitor that started it; the registered version carries it on. */
export const LABEL_DRIFTMONITOR = 'modelops.dev/driftmonitor';
/** Which TrainingJob (by uid) registered a ModelVersion: a namesake from elsewhere is not ours. */
export const ANNOTATION_TRAININGJOB_UID = 'modelops.dev/trainingjob-uid';

const registeredVersion = (tj: TrainingJob) => tj.spec.register?.version ?? tj.metadata.name;
/** A DNS-1035 label (it names the version's Deployment and Service): dots of the version become dashes. */
export const modelVersionName = (tj: TrainingJob) =>
  `${tj.spec.register!.modelName}-${registeredVersion(tj).replaceAll('.', '-')}`;

/** What a succeeded run recorded in its status: the registration's input. */
export type RunOutcome = Required<Pick<TrainingJobStatus, 'metrics'>> &
  Pick<TrainingJobStatus, 'artifact' | 'reference'>;

export interface PendingEvent {
  type: EventType;
  reason: string;
  message: string;
}

export interface Registration {
  condition: ConditionInput;
  status: Pick<TrainingJobStatus, 'modelVersion' | 'gateMessage'>;
  /** True/False: decided. Unknown (a write that failed for a reason a retry may fix): not yet. */
  settled: boolean;
  event?: PendingEvent;
}

type RegistrationDecision = { create: ModelVersion; registration: Registration } | { registration: Registration };

/** The decision already recorded, if it still holds. */
export function recordedRegistration(tj: TrainingJob): Registration | undefined {
  const recorded = findCondition(tj.status?.conditions, 'Registered');
  if (!recorded || recorded.status === 'Unknown') return undefined;
  if (recorded.status === 'False' && recorded.observedGeneration !== tj.metadata.generation) return undefined;
  const { type, status, reason, message } = recorded;
  return {
    condition: { type, status, reason, message },
    status: { modelVersion: tj.status?.modelVersion, gateMessage: tj.status?.gateMessage },
    settled: true,
  };
}

const refused = (reason: string, message: string, gateMessage = message): Registration => ({
  condition: { type: 'Registered', status: 'False', reason, message },
  status: { gateMessage, modelVersion: undefined },
  settled: true,
  event: { type: 'Warning', reason, message },
});

export function registered(name: string, gateMessage: string): Registration {
  const message = `registered ModelVersion ${name}: ${gateMessage}`;
  return {
    condition: { type: 'Registered', status: 'True', reason: 'GatePassed', message },
    status: { modelVersion: name, gateMessage },
    settled: true,
    event: { type: 'Normal', reason: 'Registered', message },
  };
}

/** Someone else's ModelVersion holds the name: never count it as ours. */
export function nameTaken(tj: TrainingJob, gateMessage: string): Registration {
  const name = modelVersionName(tj);
  return refused(
    'NameConflict',
    `ModelVersion ${name} already exists and was not registered by this TrainingJob; set spec.register.version to a version not taken`,
    gateMessage,
  );
}

/** The API server refused the ModelVersion: only a spec change can help. */
export function rejected(tj: TrainingJob, apiMessage: string, gateMessage: string): Registration {
  return refused(
    'RegistrationRejected',
    `the API server refused ModelVersion ${modelVersionName(tj)}: ${apiMessage}`,
    gateMessage,
  );
}

/** A create that failed for a reason a retry may fix (the controller retries with backoff). */
export function registering(tj: TrainingJob, why: string): Registration {
  const message = `registering ModelVersion ${modelVersionName(tj)}: ${why}`;
  return {
    condition: { type: 'Registered', status: 'Unknown', reason: 'Registering', message },
    status: {},
    settled: false,
  };
}

export const isOurs = (tj: TrainingJob, mv: ModelVersion | undefined): boolean =>
  mv?.metadata.annotations?.[ANNOTATION_TRAININGJOB_UID] === tj.metadata.uid;

/**
 * @param stable the model's stable version, if any (its lineage metrics are what must be beaten)
 * @param existing the ModelVersion already holding the registration's name, if any
 */
export function decideRegistration(
  tj: TrainingJob,
  outcome: RunOutcome,
  stable: ModelVersion | undefined,
  existing: ModelVersion | undefined,
): RegistrationDecision {
  const register = tj.spec.register!;
  if (!outcome.artifact) return { registration: refused('NoArtifact', 'the run reported no artifact to register') };
  // A stable version without lineage (applied by hand) recorded nothing to beat: still a stable version.
  const gate = evaluateGate(register, outcome.metrics, stable ? (stable.spec.lineage?.metrics ?? {}) : undefined);
  if (!gate.passed) return { registration: refused('GateRefused', gate.message) };
  const name = modelVersionName(tj);
  if (existing)
    return { registration: isOurs(tj, existing) ? registered(name, gate.message) : nameTaken(tj, gate.message) };
  return { create: buildModelVersion(tj, outcome), registration: registered(name, gate.message) };
}

export function buildModelVersion(tj: TrainingJob, outcome: RunOutcome): ModelVersion {
  const register = tj.spec.register!;
  const { artifact, reference, metrics } = outcome;
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
      annotations: { [ANNOTATION_TRAININGJOB_UID]: tj.metadata.uid! },
    },
    spec: {
      model: register.modelName,
      version: registeredVersion(tj),
      artifact: { uri: artifact!.uri, ...(artifact!.digest ? { digest: artifact!.digest } : {}) },
      ...(reference ? { reference: { uri: reference.uri } } : {}),
      ...(register.serving ? { serving: register.serving } : {}),
      lineage: {
        trainingJob: tj.metadata.name,
        image: tj.spec.image,
        datasetUri: tj.spec.dataset.uri,
        ...(tj.spec.dataset.version ? { datasetVersion: tj.spec.dataset.version } : {}),
        metrics,
      },
    },
  };
}
