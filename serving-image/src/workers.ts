// Every core the pod is given: with WORKERS > 1 (or `auto` under a CPU limit of two or more cores) a primary
// process forks that many workers, which share the listening port (node:cluster hands connections out round
// robin) and each serve the model on their own core. Node's event loop is one core, so this is how one pod
// uses more.
//
// The pod must still look like one server: /metrics on any worker answers for all of them (prom-client's
// AggregatorRegistry sums counters and histograms; the reference gauges, alike in every worker, are taken
// once), and a load or unload on any worker runs on every worker before it is answered. Signals go to the
// primary (PID 1 in the container), which passes them on. A worker that dies is replaced.
//
// The protocol between a worker and the primary (node:cluster's IPC channel):
//   worker → primary  { metrics, id }                     primary → worker  { metrics-result, id, text | error }
//   worker → primary  { control, id, op, change }         primary → worker  { control-result, id, error? }
// and for a control (one at a time) the primary asks every live worker at once, answering once all have:
//   primary → each worker  { run-control, id, op, change }   each worker → primary  { control-done, id, error? }
// node:cluster, `process` and prom-client's aggregator are reached only through the ports below (`clusterChannel`,
// `nodePrimaryEdges`), so the tests run a primary and its workers in one process over in-memory channels.
import cluster from 'node:cluster';
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
export type Message =
  | { modelops: 'metrics'; id: number }
  | { modelops: 'metrics-result'; id: number; text?: string; error?: string }
  | { modelops: 'control'; id: number; op: ControlOp; change: SourceChange }
  | { modelops: 'control-result'; id: number; error?: string }
  | { modelops: 'run-control'; id: number; op: ControlOp; change: SourceChange }
  | { modelops: 'control-done'; id: number; error?: string };
/** The primary's answer to a worker's request. */
type Reply = Extract<Message, { modelops: 'metrics-result' | 'control-result' }>;

/** What a worker runs a control on: its own model (an InferenceCore). */
export interface ModelControl {
  load(change: SourceChange): Promise<unknown>;
  unload(): Promise<unknown>;
}

/** A worker's line to the primary (`process` in a node:cluster worker). */
export interface Channel {
  send(message: Message): unknown;
  on(event: 'message', listener: (message: Message) => void): unknown;
}

/**
 * This node:cluster worker's channel to the primary. It also answers the primary's requests for this worker's
 * metrics (prom-client's own messages on the same channel).
 */
export function clusterChannel(registry: Registry, ipc: WorkerIpc = process): Channel {
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  return { send: (message) => ipc.send!(message), on: (event, listener) => ipc.on(event, listener) };
}

/** A node:cluster worker's IPC to its primary: its `process`. */
export type WorkerIpc = Pick<NodeJS.Process, 'send' | 'on'>;

/** A worker's scope: metrics and model control go through the primary to every worker. */
export function workerScope(core: ModelControl, channel: Channel): ServerScope {
  const pending = new Map<number, (reply: Reply) => void>();
  let next = 0;
  const ask = (message: Message): Promise<Reply> =>
    new Promise((resolve) => {
      pending.set(message.id, resolve);
      channel.send(message);
    });
  const runControl = (id: number, op: ControlOp, change: SourceChange): void => {
    const run = op === 'load' ? core.load(change) : core.unload();
    run.then(
      () => channel.send({ modelops: 'control-done', id }),
      (error: Error) => channel.send({ modelops: 'control-done', id, error: error.message }),
    );
  };
  channel.on('message', (message) => {
    switch (message.modelops) {
      case 'run-control':
        return runControl(message.id, message.op, message.change);
      case 'metrics-result':
      case 'control-result':
        pending.get(message.id)?.(message);
        pending.delete(message.id);
        return;
    }
  });
  const failed = (reply: Reply): void => {
    if (reply.error !== undefined) throw new Error(reply.error);
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

/** What the primary uses of one node:cluster worker. */
export interface WorkerPort {
  readonly id: number;
  isConnected(): boolean;
  send(message: Message): unknown;
  readonly process: { kill(signal: NodeJS.Signals): unknown };
}

/** What the primary uses of node:cluster (`cluster` itself in production). */
export interface ClusterPort {
  readonly workers?: NodeJS.Dict<WorkerPort>;
  fork(env?: Record<string, string>): unknown;
  on(event: 'message', listener: (worker: WorkerPort, message: Message) => void): unknown;
  on(event: 'exit', listener: (worker: WorkerPort, code: number | null, signal: string | null) => void): unknown;
}

/** What the primary uses of its own process (`process` in production). */
export interface ProcessPort {
  on(signal: 'SIGHUP', listener: () => void): unknown;
  once(signal: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface PrimaryEdges {
  cluster: ClusterPort;
  process: ProcessPort;
  /** The exposition summed over every worker (prom-client's AggregatorRegistry asks each one). */
  clusterMetrics(): Promise<string>;
  /** Runs `action` after `millis` (setTimeout). */
  delay(action: () => void, millis: number): void;
}

/** The real thing: node:cluster, this process, prom-client's aggregator and timers. */
export function nodePrimaryEdges(): PrimaryEdges {
  const aggregator = new AggregatorRegistry();
  return {
    cluster,
    process,
    clusterMetrics: () => aggregator.clusterMetrics(),
    delay: (action, millis) => void setTimeout(action, millis),
  };
}

/** A replacement worker waits this long, so that a worker that cannot start is not forked in a tight loop. */
export const REPLACEMENT_DELAY_MILLIS = 1000;

/**
 * The primary: forks `count` workers, answers their metrics and control requests, passes signals on, replaces
 * workers that die, and exits once every worker has after SIGTERM.
 */
export function runPrimary(count: number, logger: Logger, edges: PrimaryEdges = nodePrimaryEdges()): void {
  const workers = (): WorkerPort[] => Object.values(edges.cluster.workers ?? {}).filter((w): w is WorkerPort => !!w);
  const live = (): WorkerPort[] => workers().filter((w) => w.isConnected());
  const runs = new ControlRuns();
  // What a load changed, so that a replacement worker starts with the model the others serve.
  const env: Record<string, string> = {};
  let controls = Promise.resolve();
  let stopping = false;

  // A worker that died while its request ran gets no answer: node:cluster would fail the primary itself (an
  // 'error' event on the worker, which nothing handles) for a message to a closed channel.
  const answer = (worker: WorkerPort, message: Message): void => {
    if (worker.isConnected()) worker.send(message);
  };
  const answerMetrics = (worker: WorkerPort, id: number): void => {
    edges.clusterMetrics().then(
      (text) => answer(worker, { modelops: 'metrics-result', id, text }),
      (error: Error) => answer(worker, { modelops: 'metrics-result', id, error: error.message }),
    );
  };
  // One control at a time, each on every live worker before it is answered.
  const control = (worker: WorkerPort, id: number, op: ControlOp, change: SourceChange): void => {
    controls = controls.then(async () => {
      const { confirmed, errors } = await runs.start(live(), op, change);
      // A load every worker died in is not remembered: the model may be what killed them.
      if (confirmed > 0 && errors.length === 0 && op === 'load') rememberSource(env, change);
      const error = errors.length ? `${errors.length} of the workers failed: ${errors[0]}` : undefined;
      answer(worker, { modelops: 'control-result', id, error });
    });
  };
  const replace = (worker: WorkerPort, code: number | null, signal: string | null): void => {
    logger.error({ worker: worker.id, code, signal }, 'a worker died; starting another');
    // A run waiting for the dead worker's answer would wait forever; its replacement loads from `env`.
    runs.forget(worker.id);
    edges.delay(() => edges.cluster.fork(env), REPLACEMENT_DELAY_MILLIS);
  };
  const exitOnceAllStopped = (): void => {
    if (workers().length > 0) return;
    logger.info('every worker has stopped');
    edges.process.exit(0);
  };
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping every worker');
    stopping = true;
    if (workers().length === 0) edges.process.exit(0);
    workers().forEach((w) => w.process.kill('SIGTERM'));
  };

  edges.cluster.on('message', (worker, message) => {
    switch (message.modelops) {
      case 'metrics':
        return answerMetrics(worker, message.id);
      case 'control':
        return control(worker, message.id, message.op, message.change);
      case 'control-done':
        return runs.answered(message.id, worker.id, message.error);
    }
  });
  edges.cluster.on('exit', (worker, code, signal) => (stopping ? exitOnceAllStopped() : replace(worker, code, signal)));
  edges.process.on('SIGHUP', () => workers().forEach((w) => w.process.kill('SIGHUP')));
  edges.process.once('SIGTERM', stop);
  edges.process.once('SIGINT', stop);

  logger.info({ workers: count }, 'starting workers');
  for (let i = 0; i < count; i++) edges.cluster.fork();
}

/** How a control ended: the workers that ran it without error, and the errors of the others. */
interface ControlOutcome {
  confirmed: number;
  errors: string[];
}

/** The controls running on the workers: which workers each still waits for, and what those that answered said. */
class ControlRuns {
  private next = 0;
  private readonly runs = new Map<number, { awaiting: Set<number>; outcome: ControlOutcome; done: () => void }>();

  /** Sends the control to each of `workers`; resolves once every one has answered or died. */
  start(workers: WorkerPort[], op: ControlOp, change: SourceChange): Promise<ControlOutcome> {
    return new Promise((resolve) => {
      const id = this.next++;
      const run = {
        awaiting: new Set(workers.map((w) => w.id)),
        outcome: { confirmed: 0, errors: [] as string[] },
        done: () => resolve(run.outcome),
      };
      this.runs.set(id, run);
      for (const worker of workers) worker.send({ modelops: 'run-control', id, op, change });
      if (workers.length === 0) run.done();
    });
  }

  answered(id: number, worker: number, error?: string): void {
    const run = this.runs.get(id);
    if (!run?.awaiting.has(worker)) return;
    if (error === undefined) run.outcome.confirmed++;
    else run.outcome.errors.push(error);
    this.stopAwaiting(id, worker);
  }

  /** A dead worker answers nothing: no run waits for it any more. */
  forget(worker: number): void {
    for (const id of [...this.runs.keys()]) this.stopAwaiting(id, worker);
  }

  private stopAwaiting(id: number, worker: number): void {
    const run = this.runs.get(id)!;
    if (!run.awaiting.delete(worker) || run.awaiting.size > 0) return;
    this.runs.delete(id);
    run.done();
  }
}

/** A new model drops the reference of the one before (the new one's sibling is the default); a new reference is set. */
function rememberSource(env: Record<string, string>, change: SourceChange): void {
  if (change.modelUri !== undefined) {
    env.MODEL_URI = change.modelUri;
    delete env.REFERENCE_URI;
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
    attempt(() =>
      cpuShare(
        Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')),
        Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')),
      ),
    )
  );
}

/** `cpu.max` is "QUOTA PERIOD" in µs, or "max PERIOD" without a limit. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  return cpuShare(Number(quota), Number(period));
}

/** The CPUs a quota per period gives; undefined unless both are positive numbers (`max` is none: no limit). */
function cpuShare(quota: number, period: number): number | undefined {
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/**
 * WORKERS=auto: one worker per whole core of the CPU limit (at least one; a fractional rest would only be
 * throttled), and one without a limit, where the pod's share of the node is unknown.
 */
export function workerCount(setting: number | 'auto', limit: number | undefined): number {
  if (setting !== 'auto') return setting;
  return limit === undefined ? 1 : Math.max(1, Math.floor(limit));
}
