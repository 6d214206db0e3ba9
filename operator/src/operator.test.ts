import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parseConfig, type ControllerSettings, type OperatorConfig } from './config.js';
import { controllers, managerOptions, type ControllerFactory } from './operator.js';
import { resources } from './api/index.js';

const recordingFactory =
  (seen: ControllerSettings[], name: string): ControllerFactory =>
  (settings) => {
    seen.push(settings);
    return { name, for: resources.TrainingJob, reconcile: async () => {} };
  };

/** Everything a config turns into: the Manager's options and what each controller factory was given. */
function whatRuns(config: OperatorConfig): unknown {
  const seen: ControllerSettings[] = [];
  const built = controllers(config, [recordingFactory(seen, 'a'), recordingFactory(seen, 'b')]);
  const {
    kubeConfig: _k,
    logger: _l,
    ...manager
  } = managerOptions(config, new KubeConfig(), pino({ level: 'silent' }));
  return { manager, settings: seen, workers: built.map((c) => c.workers) };
}

test('--prometheus-url and --serving-image reach every controller factory; --workers every controller', () => {
  const config = parseConfig(['--prometheus-url=http://prom:9090', '--serving-image=reg/serving:2', '--workers=7'], {});
  expect(whatRuns(config)).toMatchObject({
    settings: [
      { prometheusUrl: 'http://prom:9090', servingImage: 'reg/serving:2' },
      { prometheusUrl: 'http://prom:9090', servingImage: 'reg/serving:2' },
    ],
    workers: [7, 7],
  });
});

test('--namespaces scopes the Manager to those namespaces', () => {
  expect(whatRuns(parseConfig(['--namespaces=ml,ml-staging'], {}))).toMatchObject({
    manager: { namespaces: ['ml', 'ml-staging'] },
  });
});

test('no setting is parsed and then dropped: changing any one changes what runs', () => {
  const base = parseConfig(['--leader-elect', '--prometheus-url=http://prom:9090'], { POD_NAME: 'op-0' });
  const changed: Record<keyof OperatorConfig, unknown> = {
    leaderElect: false,
    leaderElectionNamespace: 'elsewhere',
    identity: 'op-1',
    metricsPort: 9999,
    healthPort: 9998,
    namespaces: ['ml'],
    prometheusUrl: 'http://other:9090',
    servingImage: 'other:1',
    workers: 9,
    logLevel: undefined, // main.ts: the root logger's level
  };
  for (const [field, value] of Object.entries(changed)) {
    if (field === 'logLevel') continue;
    expect([field, whatRuns({ ...base, [field]: value })]).not.toEqual([field, whatRuns(base)]);
  }
});

test("the Manager's registry reaches every controller factory, for the controllers' own metrics", () => {
  const seen: ControllerSettings[] = [];
  const registry = new Registry();
  controllers(parseConfig([], {}), [recordingFactory(seen, 'a'), recordingFactory(seen, 'b')], registry);
  expect(seen.map((s) => (s as ControllerSettings & { registry: Registry }).registry)).toEqual([registry, registry]);
  expect((seen[0] as ControllerSettings & { registry: Registry }).registry).toBe(registry);
});
