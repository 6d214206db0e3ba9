import { buildRetrainingJob, LABEL_DRIFTMONITOR, mustBeatStable, retrainingJobName } from './retrain.js';
import { driftMonitor, retrainSpec } from './fixtures.test-helpers.js';

describe('buildRetrainingJob', () => {
  const dm = driftMonitor(retrainSpec());
  const tj = buildRetrainingJob(dm, 3, 'v1 (stable): 2 of 30 features critical');

  test('owned by the DriftMonitor, labelled and annotated with why it runs', () => {
    expect(tj.apiVersion).toBe('modelops.dev/v1alpha1');
    expect(tj.kind).toBe('TrainingJob');
    expect(tj.metadata).toEqual({
      name: 'fraud-drift-retrain-3',
      namespace: 'ml',
      labels: {
        'app.kubernetes.io/managed-by': 'modelops',
        [LABEL_DRIFTMONITOR]: 'fraud-drift',
        'modelops.dev/model': 'fraud',
      },
      annotations: { 'modelops.dev/drift-reason': 'v1 (stable): 2 of 30 features critical' },
      ownerReferences: [
        {
          apiVersion: 'modelops.dev/v1alpha1',
          kind: 'DriftMonitor',
          name: 'fraud-drift',
          uid: 'dm-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
  });

  test("writes under its own path and registers only if it beats the stable version on the gate's metric", () => {
    expect(tj.spec.output.uri).toBe('pvc://models/fraud/retrain/fraud-drift-retrain-3');
    expect(tj.spec.register).toEqual({
      modelName: 'fraud',
      gate: [{ metric: 'val_auc', operator: '>=', threshold: 0.9 }],
      mustBeatStable: { metric: 'val_auc', higherIsBetter: true },
    });
    expect(tj.spec.image).toBe('ghcr.io/modelops/training:0.1.0');
    expect(tj.spec.register?.version).toBeUndefined();
  });

  test("the template's own mustBeatStable wins; a lower-is-better gate beats downwards", () => {
    expect(
      mustBeatStable({ modelName: 'fraud', mustBeatStable: { metric: 'val_loss', higherIsBetter: false } }),
    ).toEqual({
      metric: 'val_loss',
      higherIsBetter: false,
    });
    expect(
      mustBeatStable({ modelName: 'fraud', gate: [{ metric: 'val_loss', operator: '<', threshold: 0.2 }] }),
    ).toEqual({
      metric: 'val_loss',
      higherIsBetter: false,
    });
  });
});

describe('buildRetrainingJob: edges of its inputs', () => {
  test('the reason annotation is cut at 1024 characters', () => {
    const reason = 'x'.repeat(1030);
    const tj = buildRetrainingJob(driftMonitor(retrainSpec()), 1, reason);
    expect(tj.metadata.annotations!['modelops.dev/drift-reason']).toBe('x'.repeat(1024));
  });

  test.each([
    ['pvc://models/fraud/retrain', 'pvc://models/fraud/retrain/fraud-drift-retrain-1'],
    ['pvc://models/fraud/retrain///', 'pvc://models/fraud/retrain/fraud-drift-retrain-1'],
    ['s3://bucket/a/b', 's3://bucket/a/b/fraud-drift-retrain-1'],
  ])('output %s → %s', (uri, expected) => {
    const spec = retrainSpec();
    spec.actions.retrain.template.output = { uri };
    expect(buildRetrainingJob(driftMonitor(spec), 1, 'why').spec.output.uri).toBe(expected);
  });

  test('a template without a gate or mustBeatStable registers without comparing to the stable version', () => {
    const spec = retrainSpec();
    spec.actions.retrain.template.register = { modelName: 'fraud' } as typeof spec.actions.retrain.template.register;
    expect(buildRetrainingJob(driftMonitor(spec), 1, 'why').spec.register).toEqual({ modelName: 'fraud' });
    expect(mustBeatStable({ modelName: 'fraud' })).toBeUndefined();
    expect(mustBeatStable({ modelName: 'fraud', gate: [] })).toBeUndefined();
  });
});

describe('retrainingJobName', () => {
  test('a name that fits exactly 40 characters is kept whole', () => {
    const dm = driftMonitor();
    dm.metadata.name = 'm'.repeat(40 - '-retrain-7'.length);
    expect(retrainingJobName(dm, 7)).toBe(`${dm.metadata.name}-retrain-7`);
    dm.metadata.name += 'm';
    expect(retrainingJobName(dm, 7)).toMatch(/^m{23}-[0-9a-f]{6}-retrain-7$/);
  });

  test.each([
    ['dashes', 'abcdefghijklmnopqrs---tail-of-a-long-monitor-name'],
    ['dots', 'abcdefghijklmnopqrs...tail-of-a-long-monitor-name'],
  ])('a shortened head ending in %s loses them (a name ends alphanumeric)', (_what, name) => {
    const dm = driftMonitor();
    dm.metadata.name = name;
    expect(retrainingJobName(dm, 12)).toMatch(/^abcdefghijklmnopqrs-[0-9a-f]{6}-retrain-12$/);
  });

  test('fits the 40 characters a registered version may have, stays distinct and valid', () => {
    const long = driftMonitor();
    long.metadata.name = 'a-very-long-drift-monitor-name-for-the-fraud-model';
    const name = retrainingJobName(long, 12);
    expect(name.length).toBeLessThanOrEqual(40);
    expect(name).toMatch(/^a-very-long-drift-moni-[0-9a-f]{6}-retrain-12$/);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    const other = driftMonitor();
    other.metadata.name = 'a-very-long-drift-monitor-name-for-the-churn-model';
    expect(retrainingJobName(other, 12)).not.toBe(name);
  });
});
