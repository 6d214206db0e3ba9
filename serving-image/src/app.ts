// Wires the serving process together from its configuration: fetcher and loader, inference core, metrics,
// and the HTTP front. main.ts runs it as a process; the tests run it in-process on port 0.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServingConfig } from './config.js';
import { ServingMetrics } from './metrics.js';
import { InferenceCore } from './model/core.js';
import { FaultInjector } from './model/faults.js';
import { createFetcher, siblingUri } from './model/fetch.js';
import { createLoader } from './model/loader.js';
import { AccessPolicy } from './protocol/access.js';
import { createHttpFront, type HttpFront } from './protocol/http.js';
import { clusterChannel, processScope, workerScope } from './workers.js';

export interface ServingApp {
  core: InferenceCore;
  metrics: ServingMetrics;
  front: HttpFront;
  /** Starts listening (liveness answers from now on) and returns the address; loading is `core.start()`. */
  listen(): Promise<AddressInfo>;
  /** Stops accepting, finishes in-flight requests, then releases the model. */
  shutdown(): Promise<void>;
}

/** `clustered`: this process is one of several workers (workers.ts), which share metrics and model control. */
export function createApp(config: ServingConfig, logger: Logger, clustered = false): ServingApp {
  const metrics = new ServingMetrics({
    model: config.modelName,
    version: config.modelVersion,
    role: config.role,
    maxBatchSize: config.maxBatchSize,
  });
  const loader = createLoader({
    fetch: createFetcher({ s3: config.s3, timeoutMillis: config.fetchTimeoutMillis }),
    intraOpThreads: config.intraOpThreads,
    batching: {
      maxBatchSize: config.maxBatchSize,
      maxQueueDelayMicros: config.maxQueueDelayMicros,
      onRun: (rows) => metrics.batchRun(rows),
    },
    logger,
  });
  const core = new InferenceCore({
    name: config.modelName,
    version: config.modelVersion,
    source: {
      modelUri: config.modelUri,
      referenceUri: config.referenceUri ?? siblingUri(config.modelUri, 'reference.json'),
    },
    loader,
    observer: metrics,
    logger,
    loadRetryMillis: config.loadRetryMillis,
    faults: config.faults && new FaultInjector(config.faults),
  });
  if (config.faults) logger.warn({ faults: config.faults }, 'fault injection is on (MODELOPS_FAULT_*): test beds only');
  const access = new AccessPolicy({ apiKey: config.apiKey, modelControlKey: config.modelControlKey });
  const scope = clustered ? workerScope(core, clusterChannel(metrics.registry)) : processScope(core, metrics.registry);
  const front = createHttpFront({ core, metrics, scope, maxBodyBytes: config.maxBodyBytes, access, logger });
  return {
    core,
    metrics,
    front,
    async listen() {
      front.server.listen(config.port, config.host);
      await once(front.server, 'listening');
      return front.server.address() as AddressInfo;
    },
    async shutdown() {
      await front.drain(config.shutdownTimeoutMillis);
      await core.close();
    },
  };
}
