import { buildRetrainingJob, LABEL_DRIFTMONITOR, mustBeatStable, retrainingJobName } from './retrain.js';
import { driftMonitor, retrainSpec } from './fixtures.test-helpers.js';

describe('buildRetrainingJob', () => {
  const dm = driftMonitor(retrainSpec());
  const tj = buildRetrainingJob(dm, 3, 'v1 (stable): 2 of 30 features critical');

  test('owned by the DriftMonitor, labelled and annotated with why it runs', () => {
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

describe('retrainingJobName', () => {
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
