import { Registry } from 'prom-client';
import type { VersionVerdict } from '../../api/index.js';
import { DriftScoreGauge } from './metrics.js';

const verdict = (version: string, psi: number): VersionVerdict => ({
  version,
  modelVersion: `fraud-${version}`,
  role: 'stable',
  verdict: 'None',
  features: [
    { name: 'amount', severity: 'None', scores: { PSI: psi, KS: 0.01 } },
    { name: ':prediction', severity: 'None', scores: { PSI: 0.02, KS: 0.03 } },
  ],
});
const monitor = { namespace: 'ml', name: 'fraud-drift', model: 'fraud' };

test('one series per version, feature and method; replaced at every evaluation, removed with the monitor', async () => {
  const registry = new Registry();
  const gauge = new DriftScoreGauge(registry);
  gauge.set(monitor, [verdict('v1', 0.3), verdict('v2', 0.05)]);
  let text = await registry.metrics();
  expect(text).toContain(
    'modelops_drift_score{namespace="ml",driftmonitor="fraud-drift",model="fraud",version="v1",feature="amount",method="PSI"} 0.3',
  );
  expect(text).toContain('version="v2",feature=":prediction",method="KS"} 0.03');
  expect(text.match(/^modelops_drift_score\{/gm)).toHaveLength(8);

  // v2 stopped serving: its series go.
  gauge.set(monitor, [verdict('v1', 0.4)]);
  text = await registry.metrics();
  expect(text).toContain('version="v1",feature="amount",method="PSI"} 0.4');
  expect(text).not.toContain('version="v2"');

  gauge.remove(monitor);
  expect((await registry.metrics()).match(/^modelops_drift_score\{/gm)).toBeNull();
});

test('a second gauge on the same registry (the controller built again in one process) takes over the metric', async () => {
  const registry = new Registry();
  new DriftScoreGauge(registry).set(monitor, [verdict('v1', 0.3)]);
  const again = new DriftScoreGauge(registry);
  again.set({ ...monitor, name: 'other-drift' }, [verdict('v1', 0.1)]);
  const text = await registry.metrics();
  expect(text.match(/^# HELP modelops_drift_score /gm)).toHaveLength(1);
  expect(text).toContain('driftmonitor="other-drift"');
});

test('two monitors share the gauge without touching each other', async () => {
  const registry = new Registry();
  const a = new DriftScoreGauge(registry);
  a.set(monitor, [verdict('v1', 0.3)]);
  a.set({ ...monitor, namespace: 'other' }, [verdict('v1', 0.1)]);
  a.remove(monitor);
  const text = await registry.metrics();
  expect(text).toContain('namespace="other"');
  expect(text).not.toContain('namespace="ml"');
});

test('only scores that were computed: none for a version without feature scores or a method not run', async () => {
  const registry = new Registry();
  const gauge = new DriftScoreGauge(registry);
  const { features: _features, ...withoutFeatures } = verdict('v2', 0.1);
  const v1 = verdict('v1', 0.3);
  v1.features![0]!.scores.JS = undefined;
  gauge.set(monitor, [v1, withoutFeatures]);
  const text = await registry.metrics();
  expect(text).toContain('# HELP modelops_drift_score Drift of a feature (feature=":prediction": the predicted score)');
  expect(text.match(/^modelops_drift_score\{/gm)).toHaveLength(4);
  expect(text).not.toContain('method="JS"');
  expect(text).not.toContain('version="v2"');
});
