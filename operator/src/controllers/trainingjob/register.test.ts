import { buildModelVersion } from './register.js';
import { trainingJob } from './fixtures.test-helpers.js';

const report = { metrics: { val_auc: 0.95 }, artifact: { uri: '/output/fraud-1/model.onnx' } };

test('the registered version names its run in labels and lineage', () => {
  const mv = buildModelVersion(trainingJob({ register: { modelName: 'fraud' } }), report);
  expect(mv.metadata.labels).toEqual({
    'modelops.dev/model': 'fraud',
    'modelops.dev/trainingjob': 'fraud-1',
    'app.kubernetes.io/managed-by': 'modelops',
  });
  expect(mv.spec.lineage).toMatchObject({ trainingJob: 'fraud-1', metrics: { val_auc: 0.95 } });
});

test('a retraining run started by a DriftMonitor passes the monitor on to the version it registers', () => {
  const tj = trainingJob({ register: { modelName: 'fraud' } });
  tj.metadata.labels = { 'modelops.dev/driftmonitor': 'fraud-drift' };
  expect(buildModelVersion(tj, report).metadata.labels).toMatchObject({ 'modelops.dev/driftmonitor': 'fraud-drift' });
});
