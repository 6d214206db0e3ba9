// From the operator's configuration to what runs: the Manager's options and the controllers, each
// given the settings it needs. Kept apart from main.ts (process wiring) so a test can check that
// every flag reaches somewhere.
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import type { ControllerSettings, OperatorConfig } from './config.js';
import type { ControllerOptions, Logger, ManagerOptions } from './runtime/index.js';
import { trainingJobController } from './controllers/trainingjob/controller.js';
import { modelVersionController } from './controllers/modelversion/controller.js';
import { driftMonitorController } from './controllers/driftmonitor/controller.js';

const LEASE_NAME = 'modelops-operator';

/** The flags' settings, and the Manager's registry: a controller's own metrics go there, on /metrics. */
export type ControllerFactory = (settings: ControllerSettings & { registry: Registry }) => ControllerOptions;

/** One factory per resource; each receives the flags' settings. */
export const CONTROLLERS: readonly ControllerFactory[] = [
  trainingJobController,
  modelVersionController,
  driftMonitorController,
];

export function managerOptions(config: OperatorConfig, kubeConfig: KubeConfig, logger: Logger): ManagerOptions {
  return {
    kubeConfig,
    logger,
    metricsPort: config.metricsPort,
    healthPort: config.healthPort,
    namespaces: config.namespaces,
    ...(config.leaderElect
      ? {
          leaderElection: {
            leaseName: LEASE_NAME,
            namespace: config.leaderElectionNamespace,
            identity: config.identity,
          },
        }
      : {}),
  };
}

export function controllers(
  config: OperatorConfig,
  factories: readonly ControllerFactory[] = CONTROLLERS,
  registry: Registry = new Registry(),
): ControllerOptions[] {
  const settings = { prometheusUrl: config.prometheusUrl, servingImage: config.servingImage, registry };
  return factories.map((factory) => ({ workers: config.workers, ...factory(settings) }));
}
