import type { ModelVersion, TrainingJob } from '../../api/index.js';
import {
  ANNOTATION_TRAININGJOB_UID,
  buildModelVersion,
  decideRegistration,
  modelVersionName,
  recordedRegistration,
  type RunOutcome,
} from './register.js';
import { trainingJob } from './fixtures.test-helpers.js';

const register = (extra: Partial<NonNullable<TrainingJob['spec']['register']>> = {}) =>
  trainingJob({
    register: { modelName: 'fraud', gate: [{ metric: 'val_auc', operator: '>=', threshold: 0.9 }], ...extra },
  });
const outcome: RunOutcome = {
  metrics: { val_auc: 0.95 },
  artifact: { uri: 'pvc://models/fraud/model.onnx', digest: 'sha256:abc' },
  reference: { uri: 'pvc://models/fraud/reference.json' },
};
const modelVersion = (name: string, uid?: string, metrics?: Record<string, number>): ModelVersion => ({
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'ModelVersion',
  metadata: { name, namespace: 'ml', ...(uid ? { annotations: { [ANNOTATION_TRAININGJOB_UID]: uid } } : {}) },
  spec: { model: 'fraud', version: 'x', artifact: { uri: 'pvc://elsewhere/model.onnx' }, lineage: { metrics } },
});
const summary = (d: ReturnType<typeof decideRegistration>) => ({
  create: 'create' in d ? d.create.metadata.name : undefined,
  condition: `${d.registration.condition.status}/${d.registration.condition.reason}`,
  event: d.registration.event && `${d.registration.event.type}/${d.registration.event.reason}`,
});

describe('decideRegistration', () => {
  test('the version defaults to the TrainingJob name; the ModelVersion is <model>-<version>', () => {
    expect(modelVersionName(register())).toBe('fraud-fraud-1');
    expect(modelVersionName(register({ version: 'v7' }))).toBe('fraud-v7');
    // A DNS-1035 label: the dots of a version become dashes (the version itself keeps them).
    expect(modelVersionName(register({ version: '1.2.0' }))).toBe('fraud-1-2-0');
  });

  test('gate passed, name free: create the ModelVersion, Registered=True, a Normal event', () => {
    expect(summary(decideRegistration(register(), outcome, undefined, undefined))).toEqual({
      create: 'fraud-fraud-1',
      condition: 'True/GatePassed',
      event: 'Normal/Registered',
    });
  });

  test.each([
    ['no artifact', { ...outcome, artifact: undefined }, undefined, undefined, 'False/NoArtifact'],
    ['metrics below the gate', { ...outcome, metrics: { val_auc: 0.5 } }, undefined, undefined, 'False/GateRefused'],
    ['not beating stable', outcome, modelVersion('fraud-v1', 'x', { val_auc: 0.99 }), undefined, 'False/GateRefused'],
    [
      "someone else's ModelVersion holds the name",
      outcome,
      undefined,
      modelVersion('fraud-fraud-1'),
      'False/NameConflict',
    ],
    [
      "another run's ModelVersion holds the name",
      outcome,
      undefined,
      modelVersion('fraud-fraud-1', 'other-uid'),
      'False/NameConflict',
    ],
  ])('%s: refused, nothing created, a Warning', (_what, given, stable, existing, condition) => {
    const tj = register({ mustBeatStable: { metric: 'val_auc', higherIsBetter: true } });
    expect(summary(decideRegistration(tj, given, stable, existing))).toEqual({
      create: undefined,
      condition,
      event: `Warning/${condition.split('/')[1]}`,
    });
  });

  test('no artifact: the condition, the gate message and the Warning say so', () => {
    const message = 'the run reported no artifact to register';
    expect(decideRegistration(register(), { ...outcome, artifact: undefined }, undefined, undefined)).toEqual({
      registration: {
        condition: { type: 'Registered', status: 'False', reason: 'NoArtifact', message },
        status: { gateMessage: message, modelVersion: undefined },
        settled: true,
        event: { type: 'Warning', reason: 'NoArtifact', message },
      },
    });
  });

  test('our own ModelVersion already there (its status write was lost): registered, nothing created again', () => {
    const d = decideRegistration(register(), outcome, undefined, modelVersion('fraud-fraud-1', 'uid-1'));
    expect(summary(d)).toEqual({ create: undefined, condition: 'True/GatePassed', event: 'Normal/Registered' });
    expect(d.registration.status.modelVersion).toBe('fraud-fraud-1');
  });

  test('a name conflict says how to get out of it', () => {
    const d = decideRegistration(register(), outcome, undefined, modelVersion('fraud-fraud-1'));
    expect(d.registration.condition.message).toBe(
      'ModelVersion fraud-fraud-1 already exists and was not registered by this TrainingJob; set spec.register.version to a version not taken',
    );
    expect(d.registration.status).toEqual({ gateMessage: 'gate passed: val_auc 0.95 >= 0.9', modelVersion: undefined });
  });
});

describe('recordedRegistration', () => {
  const withRegistered = (status: 'True' | 'False', observedGeneration: number, generation: number): TrainingJob => {
    const tj = register();
    return {
      ...tj,
      metadata: { ...tj.metadata, generation },
      status: {
        modelVersion: status === 'True' ? 'fraud-fraud-1' : undefined,
        conditions: [
          { type: 'Registered', status, reason: 'R', message: 'm', observedGeneration, lastTransitionTime: '' },
        ],
      },
    };
  };

  test('a registration stays; a refusal stays for its generation and is decided again after a spec change', () => {
    // A recorded decision is settled: the run is Finished with it, and no Event is sent again.
    expect(recordedRegistration(withRegistered('True', 1, 3))).toEqual({
      condition: { type: 'Registered', status: 'True', reason: 'R', message: 'm' },
      status: { modelVersion: 'fraud-fraud-1', gateMessage: undefined },
      settled: true,
    });
    expect(recordedRegistration(withRegistered('False', 2, 2))?.condition.status).toBe('False');
    expect(recordedRegistration(withRegistered('False', 2, 3))).toBeUndefined();
    expect(recordedRegistration(register())).toBeUndefined();
  });
});

test('the ModelVersion carries the artifact URI as recorded, the lineage, and whose it is', () => {
  const tj = register({ version: 'v7', serving: { replicas: 2 } });
  const mv = buildModelVersion(tj, outcome);
  expect(mv).toMatchObject({ apiVersion: 'modelops.dev/v1alpha1', kind: 'ModelVersion' });
  expect(mv.metadata).toEqual({
    name: 'fraud-v7',
    namespace: 'ml',
    labels: {
      'modelops.dev/model': 'fraud',
      'modelops.dev/trainingjob': 'fraud-1',
      'app.kubernetes.io/managed-by': 'modelops',
    },
    annotations: { 'modelops.dev/trainingjob-uid': 'uid-1' },
  });
  expect(mv.metadata.ownerReferences).toBeUndefined(); // deleting the run must not take the model down
  expect(mv.spec).toEqual({
    model: 'fraud',
    version: 'v7',
    artifact: { uri: 'pvc://models/fraud/model.onnx', digest: 'sha256:abc' },
    reference: { uri: 'pvc://models/fraud/reference.json' },
    serving: { replicas: 2 },
    lineage: {
      trainingJob: 'fraud-1',
      image: 'ghcr.io/modelops/training:0.1.0',
      datasetUri: 'synthetic://fraud?rows=1000&seed=7',
      datasetVersion: 'v3',
      metrics: { val_auc: 0.95 },
    },
  });
});

test('a retraining run started by a DriftMonitor passes the monitor on to the version it registers', () => {
  const tj = register();
  tj.metadata.labels = { 'modelops.dev/driftmonitor': 'fraud-drift' };
  expect(buildModelVersion(tj, outcome).metadata.labels).toMatchObject({ 'modelops.dev/driftmonitor': 'fraud-drift' });
});
