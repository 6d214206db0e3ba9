// Every core the pod is given: with WORKERS > 1 (or `auto` under a CPU limit of two or more cores) a primary
// process forks that many workers, which share the listening port (node:cluster hands connections out round
// robin) and each serve the model on their own core. Node's event loop is one core, so this is how one pod
// uses more.
//
// The pod must still look like one server: /metrics on any worker answers for all of them (prom-client's
// AggregatorRegistry sums counters and histograms; the reference gauges, alike in every worker, are taken
// once), and a load or unload on any worker runs on every worker before it is answered. Signals go to the
// primary (PID 1 in the container), which passes them on. A worker that dies is replaced.
import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { InferenceCore, SourceChange } from './model/core.js';

/** How the HTTP front reaches what is shared across workers (or, with one process, the process itself). */
export interface ServerScope {
  /** The Prometheus exposition for the whole server. */
  exposition(): Promise<string>;
  load(change: SourceChange): Promise<void>;
  unload(): Promise<void>;
}

/** The single-process scope: this process is the server. */
export function processScope(core: InferenceCore, registry: Registry): ServerScope {
  return {
    exposition: () => registry.metrics(),
    load: async (change) => void (await core.load(change)),
    unload: () => core.unload(),
  };
}

type ControlOp = 'load' | 'unload';
type Message =
  | { modelops: 'metrics'; id: number }
  | { modelops: 'metrics-result'; id: number; text?: string; error?: string }
  | { modelops: 'control'; id: number; op: ControlOp; change: SourceChange }
  | { modelops: 'control-result'; id: number; error?: string }
  | { modelops: 'run-control'; id: number; op: ControlOp; change: SourceChange }
  | { modelops: 'control-done'; id: number; error?: string };

/** A worker's scope: metrics and model control go through the primary to every worker. */
export function workerScope(core: InferenceCore, registry: Registry): ServerScope {
  // Answers the primary's requests for this worker's metrics (prom-client's own messages).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const pending = new Map<number, { resolve: (message: Message) => void }>();
  let next = 0;
  const ask = (message: Message): Promise<Message> =>
    new Promise((resolve) => {
      pending.set(message.id, { resolve });
      process.send!(message);
    });
  process.on('message', (message: Message) => {
    switch (message.modelops) {
      case 'run-control': {
        const run = message.op === 'load' ? core.load(message.change) : core.unload();
        run.then(
          () => process.send!({ modelops: 'control-done', id: message.id }),
          (error: Error) => process.send!({ modelops: 'control-done', id: message.id, error: error.message }),
        );
        return;
      }
      case 'metrics-result':
      case 'control-result':
        pending.get(message.id)?.resolve(message);
        pending.delete(message.id);
        return;
    }
  });
  const failed = (reply: Message): void => {
    if ('error' in reply && reply.error !== undefined) throw new Error(reply.error);
  };
  return {
    async exposition() {
      const reply = await ask({ modelops: 'metrics', id: next++ });
      failed(reply);
      return (reply as { text: string }).text;
    },
    async load(change) {
      failed(await ask({ modelops: 'control', id: next++, op: 'load', change }));
    },
    async unload() {
      failed(await ask({ modelops: 'control', id: next++, op: 'unload', change: {} }));
    },
  };
}

/**
 * The primary: forks `count` workers, answers their metrics and control requests, passes signals on, replaces
 * workers that die, and exits once every worker has after SIGTERM.
 */
export function runPrimary(count: number, logger: Logger): void {
  const aggregator = new AggregatorRegistry();
  // What a load changed, so that a replacement worker starts with the model the others serve.
  const env: Record<string, string> = {};
  let stopping = false;
  let controls = Promise.resolve();
  let nextRun = 0;
  const runs = new Map<number, { awaiting: Set<number>; errors: string[]; done: () => void }>();
  const answered = (id: number, worker: Worker, error?: string): void => {
    const run = runs.get(id);
    if (!run || !run.awaiting.delete(worker.id)) return;
    if (error !== undefined) run.errors.push(error);
    if (run.awaiting.size > 0) return;
    runs.delete(id);
    run.done();
  };
  const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);

  const broadcast = (op: ControlOp, change: SourceChange): Promise<string[]> =>
    new Promise((resolve) => {
      const id = nextRun++;
      const live = workers().filter((w) => w.isConnected());
      const run = { awaiting: new Set(live.map((w) => w.id)), errors: [] as string[], done: () => resolve(run.errors) };
      runs.set(id, run);
      for (const worker of live) worker.send({ modelops: 'run-control', id, op, change } satisfies Message);
      if (live.length === 0) resolve([]);
    });

  cluster.on('message', (worker: Worker, message: Message) => {
    switch (message.modelops) {
      case 'metrics':
        aggregator.clusterMetrics().then(
          (text) => worker.send({ modelops: 'metrics-result', id: message.id, text } satisfies Message),
          (error: Error) => worker.send({ modelops: 'metrics-result', id: message.id, error: error.message }),
        );
        return;
      case 'control': {
        const { id, op, change } = message;
        // One control at a time, each on every worker.
        controls = controls.then(async () => {
          const errors = await broadcast(op, change);
          if (errors.length === 0 && op === 'load') rememberSource(env, change);
          const error = errors.length ? `${errors.length} of the workers failed: ${errors[0]}` : undefined;
          worker.send({ modelops: 'control-result', id, error } satisfies Message);
        });
        return;
      }
      case 'control-done':
        return answered(message.id, worker, message.error);
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (workers().length === 0) {
        logger.info('every worker has stopped');
        process.exit(0);
      }
      return;
    }
    logger.error({ worker: worker.id, code, signal }, 'a worker died; starting another');
    // A run waiting for the dead worker's answer would wait forever; its replacement loads from `env`.
    for (const id of [...runs.keys()]) answered(id, worker);
    setTimeout(() => cluster.fork(env), 1000);
  });

  process.on('SIGHUP', () => workers().forEach((w) => w.process.kill('SIGHUP')));
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping every worker');
    stopping = true;
    if (workers().length === 0) process.exit(0);
    workers().forEach((w) => w.process.kill('SIGTERM'));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  logger.info({ workers: count }, 'starting workers');
  for (let i = 0; i < count; i++) cluster.fork();
}

function rememberSource(env: Record<string, string>, change: SourceChange): void {
  if (change.modelUri !== undefined) {
    env.MODEL_URI = change.modelUri;
    if (change.referenceUri === undefined) delete env.REFERENCE_URI;
  }
  if (change.referenceUri !== undefined) env.REFERENCE_URI = change.referenceUri;
  if (change.version !== undefined) env.MODEL_VERSION = change.version;
}

/**
 * CPUs the container may use, from the cgroup's quota: `cpu.max` (v2) or `cpu.cfs_quota_us` over
 * `cpu.cfs_period_us` (v1). Undefined when there is no limit.
 */
export function cgroupCpuLimit(
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): number | undefined {
  const attempt = (f: () => number | undefined): number | undefined => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  return (
    attempt(() => parseCpuMax(read('/sys/fs/cgroup/cpu.max'))) ??
    attempt(() => {
      const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
      const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
      return quota > 0 && period > 0 ? quota / period : undefined;
    })
  );
}

/** `cpu.max` is "QUOTA PERIOD" in µs, or "max PERIOD" without a limit. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period);
  return quota !== 'max' && q > 0 && p > 0 ? q / p : undefined;
}

/**
 * WORKERS=auto: one worker per whole core of the CPU limit (at least one; a fractional rest would only be
 * throttled), and one without a limit, where the pod's share of the node is unknown.
 */
export function workerCount(setting: number | 'auto', limit: number | undefined): number {
  if (setting !== 'auto') return setting;
  return limit === undefined ? 1 : Math.max(1, Math.floor(limit));
}
