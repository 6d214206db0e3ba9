// The serving image's entrypoint: `node dist/serving-image/src/main.js` in the image,
// `node --import tsx serving-image/src/main.ts` from a checkout. Configuration: environment, see README.md.
import { pino } from 'pino';
import { createApp } from './app.js';
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config.js';
import { cgroupCpuLimit, runPrimary, workerCount } from './workers.js';

function main(): void {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    pino().fatal({ problems: error.problems }, error.message);
    process.exit(1);
  }
  const workers = workerCount(config.workers, cgroupCpuLimit());
  const logger = pino({
    level: config.logLevel,
    base: {
      model: config.modelName,
      version: config.modelVersion,
      role: config.role,
      ...(cluster.isWorker ? { worker: cluster.worker!.id } : {}),
    },
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    process.exit(1);
  });
  if (cluster.isPrimary && workers > 1) return runPrimary(workers, logger);
  const app = createApp(config, logger, cluster.isWorker);

  // Reload the model from its source (a changed file behind the same path, say); failures are logged and the
  // current model keeps serving.
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the model');
    app.core.load().catch(() => undefined);
  });
  const stop = (signal: string): void => {
    logger.info({ signal }, 'draining: no new connections, finishing in-flight requests');
    app.shutdown().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  app.listen().then(
    (address) => {
      logger.info({ port: address.port }, 'listening; ready once the model is loaded');
      return app.core.start();
    },
    (error: unknown) => {
      logger.fatal({ err: error }, 'cannot listen');
      process.exit(1);
    },
  );
}

main();
