// The modelops operator: one process, three controllers, one leader at a time.
import { KubeConfig } from '@kubernetes/client-node';
import { parseConfig, USAGE } from './config.js';
import { createLogger, Manager } from './runtime/index.js';
import { trainingJobController } from './controllers/trainingjob/controller.js';
import { modelVersionController } from './controllers/modelversion/controller.js';
import { awaitingController } from './controllers/awaiting.js';
import { resources } from './api/index.js';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const config = parseConfig(process.argv.slice(2), process.env);
  const logger = createLogger({ name: 'modelops-operator', level: config.logLevel });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault(); // in cluster: the ServiceAccount; outside: KUBECONFIG

  const manager = new Manager({
    kubeConfig,
    logger,
    metricsPort: config.metricsPort,
    healthPort: config.healthPort,
    ...(config.leaderElect
      ? {
          leaderElection: {
            leaseName: 'modelops-operator',
            namespace: config.leaderElectionNamespace,
            identity: config.identity,
          },
        }
      : {}),
  });
  // The DriftMonitor controller (controllers/driftmonitor) reads Prometheus through the client that lands
  // with the ModelVersion work (operator/src/prometheus); it is wired here when that is on main.
  const driftMonitor = awaitingController(
    'driftmonitor',
    resources.DriftMonitor,
    'drift evaluation needs the Prometheus client, which this operator build does not have yet',
  );
  for (const controller of [trainingJobController(), modelVersionController(), driftMonitor]) {
    manager.addController({ workers: config.workers, ...controller });
  }

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    manager.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  await manager.start();
  logger.info({ config }, 'modelops operator started');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
