// The modelops operator: one process, three controllers, one leader at a time.
import { KubeConfig } from '@kubernetes/client-node';
import { parseConfig, USAGE } from './config.js';
import { CONTROLLERS, controllers, managerOptions } from './operator.js';
import { createLogger, Manager } from './runtime/index.js';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const config = parseConfig(process.argv.slice(2), process.env);
  const logger = createLogger({ name: 'modelops-operator', level: config.logLevel });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault(); // in cluster: the ServiceAccount; outside: KUBECONFIG

  const manager = new Manager(managerOptions(config, kubeConfig, logger));
  for (const controller of controllers(config, CONTROLLERS, manager.registry)) manager.addController(controller);

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
  await manager.start(); // rejects, naming the resources, when the caches cannot sync
  logger.info({ config }, 'modelops operator started');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
