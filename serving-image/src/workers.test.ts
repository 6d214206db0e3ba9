import { jest } from '@jest/globals';
import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { AggregatorRegistry, register, Registry } from 'prom-client';
import { loadConfig } from './config.js';
import type { SourceChange } from './model/core.js';
import {
  cgroupCpuLimit,
  clusterChannel,
  nodePrimaryEdges,
  type ClusterPort,
  type Message,
  type ModelControl,
  parseCpuMax,
  type ProcessPort,
  REPLACEMENT_DELAY_MILLIS,
  runPrimary,
  type ServerScope,
  workerCount,
  workerScope,
  type WorkerIpc,
  type WorkerPort,
} from './workers.js';

test.each([
  ['200000 100000\n', 2],
  ['150000 100000', 1.5],
  ['50000 100000', 0.5],
  [' 200000  100000 ', 2],
  ['max 100000', undefined], // no limit
  ['', undefined],
  ['0 100000', undefined],
  ['100000', undefined], // a quota without its period
  ['100000 0', undefined],
])('cpu.max %p is %p CPUs', (text, cpus) => {
  expect(parseCpuMax(text)).toBe(cpus);
});

test('the cgroup v2 limit, else v1, else none', () => {
  const files = (contents: Record<string, string>) => (path: string) => {
    if (!(path in contents)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return contents[path]!;
  };
  expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '400000 100000' }))).toBe(4);
  expect(
    cgroupCpuLimit(
      files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }),
    ),
  ).toBe(3);
  expect(
    cgroupCpuLimit(
      files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }),
    ),
  ).toBeUndefined();
  expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }))).toBeUndefined();
  expect(cgroupCpuLimit(files({}))).toBeUndefined();
});

test("by default the limit is read from this container's cgroup files", async () => {
  // The container's root is a temporary folder: node:fs reads there, as text or bytes as it is asked.
  const root = mkdtempSync(join(tmpdir(), 'container-'));
  const cpuMax = join(root, '/sys/fs/cgroup/cpu.max');
  mkdirSync(dirname(cpuMax), { recursive: true });
  writeFileSync(cpuMax, '200000 100000\n');
  jest.resetModules();
  jest.unstable_mockModule('node:fs', () => ({
    readFileSync: (path: string, options: BufferEncoding) => readFileSync(join(root, path), options),
  }));
  const { cgroupCpuLimit: containerCpuLimit } = await import('./workers.js');
  jest.unstable_unmockModule('node:fs');
  expect(containerCpuLimit()).toBe(2);
});

test.each([
  ['auto', 4, 4],
  ['auto', 2.5, 2], // a fractional rest would only be throttled
  ['auto', 0.5, 1],
  ['auto', undefined, 1], // no limit: the pod's share of the node is unknown
  [3, undefined, 3],
  [1, 8, 1],
] as const)('WORKERS=%p with a limit of %p CPUs: %p workers', (setting, limit, expected) => {
  expect(workerCount(setting, limit)).toBe(expected);
});

test('WORKERS is auto by default, a number from 1, or a configuration error', () => {
  expect(loadConfig({ MODEL_URI: 'm' }).workers).toBe('auto');
  expect(loadConfig({ MODEL_URI: 'm', WORKERS: '4' }).workers).toBe(4);
  expect(() => loadConfig({ MODEL_URI: 'm', WORKERS: '0' })).toThrow(/WORKERS must be an integer from 1 to 1024/);
  expect(() => loadConfig({ MODEL_URI: 'm', WORKERS: 'all' })).toThrow(/WORKERS must be an integer/);
});

// The primary and its workers (runPrimary, workerScope) in one process: node:cluster's IPC channels are
// in-memory, each message delivered on a later turn of the event loop as JSON, as a real channel does
// (node:cluster's default serialization: a property whose value is undefined does not arrive).
// `quiet()` waits until no message is in flight, so a test sees what has happened, and what has not, by then.

const ipc = (message: Message): Message => JSON.parse(JSON.stringify(message)) as Message;

/** Ends a held control: it succeeds, or fails with `failure`. */
type Release = (failure?: string) => void;

/** A worker's model: records each control it runs; `hold()` keeps the next one running until released. */
class FakeModel implements ModelControl {
  readonly controls: string[] = [];
  /** Every control fails with this message while it is set. */
  failure: string | undefined;
  private held: Promise<void> | undefined;

  hold(): Release {
    let release!: Release;
    this.held = new Promise<void>(
      (resolve, reject) => (release = (failure) => (failure === undefined ? resolve() : reject(new Error(failure)))),
    );
    return release;
  }
  load(change: SourceChange): Promise<void> {
    this.controls.push(`load ${JSON.stringify(change)}`);
    return this.finish();
  }
  unload(): Promise<void> {
    this.controls.push('unload');
    return this.finish();
  }
  private finish(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(new Error(this.failure));
    const held = this.held;
    this.held = undefined;
    return held ?? Promise.resolve();
  }
}

class FakeWorker implements WorkerPort {
  readonly model = new FakeModel();
  /** What the HTTP front of this worker would use. */
  readonly scope: ServerScope;
  readonly signals: NodeJS.Signals[] = [];
  connected = true;
  readonly process = { kill: (signal: NodeJS.Signals) => this.signals.push(signal) };
  private readonly inbox = new EventEmitter();

  constructor(
    readonly id: number,
    private readonly cluster: FakeCluster,
  ) {
    this.scope = workerScope(this.model, {
      send: (message) => cluster.deliver(() => cluster.emit('message', this, ipc(message))),
      on: (event, listener) => this.inbox.on(event, listener),
    });
  }
  isConnected(): boolean {
    return this.connected;
  }
  send(message: Message): void {
    if (this.connected) this.cluster.deliver(() => this.inbox.emit('message', ipc(message)));
    // As node:cluster: a message to a worker that is gone is an 'error' event nothing handles, ending the primary.
    else
      setImmediate(() => {
        throw new Error(`channel closed: ${message.modelops} to worker ${this.id}, which is gone`);
      });
  }
  /** The worker's process ends: node:cluster forgets it, then tells the primary. */
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.connected = false;
    delete this.cluster.workers[this.id];
    this.cluster.emit('exit', this, code, signal);
  }
}

class FakeCluster extends EventEmitter implements ClusterPort {
  readonly workers: NodeJS.Dict<FakeWorker> = {};
  /** The environment each fork was given (undefined: the primary's own). */
  readonly forks: (Record<string, string> | undefined)[] = [];
  private lastId = 0;
  private inFlight = 0;

  fork(env?: Record<string, string>): FakeWorker {
    const worker = new FakeWorker(++this.lastId, this);
    this.workers[worker.id] = worker;
    this.forks.push(env && { ...env });
    return worker;
  }
  deliver(action: () => void): void {
    this.inFlight++;
    setImmediate(() => {
      this.inFlight--;
      action();
    });
  }
  async quiet(): Promise<void> {
    do await new Promise((resolve) => setImmediate(resolve));
    while (this.inFlight > 0);
  }
  worker(id: number): FakeWorker {
    return this.workers[id]!;
  }
}

class FakeProcess extends EventEmitter implements ProcessPort {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

/** A primary with `count` workers; `clusterMetrics` stands for prom-client's aggregation over them. */
function startPrimary(count: number, clusterMetrics = () => Promise.resolve('# the whole server\n')) {
  const cluster = new FakeCluster();
  const process = new FakeProcess();
  const delayed: { action: () => void; millis: number }[] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ base: undefined, timestamp: false }, { write: (line: string) => logs.push(JSON.parse(line)) });
  runPrimary(count, logger, {
    cluster,
    process,
    clusterMetrics,
    delay: (action, millis) => void delayed.push({ action, millis }),
  });
  /** Where a promise stands once no message is in flight. */
  const outcome = async (promise: Promise<unknown>): Promise<{ value?: unknown; error?: string } | 'pending'> => {
    let state: { value?: unknown; error?: string } | 'pending' = 'pending';
    promise.then(
      (value) => (state = { value }),
      (error: Error) => (state = { error: error.message }),
    );
    await cluster.quiet();
    return state;
  };
  const runDelayed = (): void => delayed.splice(0).forEach(({ action }) => action());
  /** The fields of each log line with this message, but its level and message. */
  const logged = (msg: string): Record<string, unknown>[] =>
    logs.filter((l) => l.msg === msg).map(({ level: _, msg: __, ...fields }) => fields);
  return { cluster, process, delayed, outcome, runDelayed, logged };
}

test('the primary logs and forks the workers it is asked for, each with the environment it started with', () => {
  const { cluster, logged } = startPrimary(3);
  expect(logged('starting workers')).toEqual([{ workers: 3 }]);
  expect(Object.keys(cluster.workers)).toEqual(['1', '2', '3']);
  expect(cluster.forks).toEqual([undefined, undefined, undefined]);
});

describe('metrics', () => {
  test('any worker answers with the whole server, each request with its own answer', async () => {
    let asked = 0;
    const { cluster, outcome } = startPrimary(2, () => Promise.resolve(`# exposition ${++asked}\n`));
    const first = cluster.worker(2).scope.exposition();
    const second = cluster.worker(2).scope.exposition();
    expect(await outcome(first)).toEqual({ value: '# exposition 1\n' });
    expect(await outcome(second)).toEqual({ value: '# exposition 2\n' });
    expect(await outcome(cluster.worker(1).scope.exposition())).toEqual({ value: '# exposition 3\n' });
  });

  test('requests from one worker in flight together each get their own answer', async () => {
    const { cluster, outcome } = startPrimary(1, () => Promise.resolve('# the whole server\n'));
    const { scope } = cluster.worker(1);
    const requests = [scope.exposition(), scope.load({}), scope.unload(), scope.exposition(), scope.load({})];
    expect(await Promise.all(requests.map(outcome))).toEqual([
      { value: '# the whole server\n' },
      { value: undefined },
      { value: undefined },
      { value: '# the whole server\n' },
      { value: undefined },
    ]);
  });

  test("the aggregation's error is the asking worker's error", async () => {
    const { cluster, outcome } = startPrimary(2, () => Promise.reject(new Error('worker 2 did not answer')));
    expect(await outcome(cluster.worker(1).scope.exposition())).toEqual({ error: 'worker 2 did not answer' });
  });
});

describe('model control', () => {
  test('a load runs on every worker before it is answered', async () => {
    const { cluster, outcome } = startPrimary(3);
    const release = cluster.worker(3).model.hold();
    const load = cluster.worker(1).scope.load({ modelUri: 's3://m/2', version: '2' });
    expect(await outcome(load)).toBe('pending');
    release();
    expect(await outcome(load)).toEqual({ value: undefined });
    for (const id of [1, 2, 3])
      expect(cluster.worker(id).model.controls).toEqual(['load {"modelUri":"s3://m/2","version":"2"}']);
  });

  test('an unload runs on every worker as an unload', async () => {
    const { cluster, outcome } = startPrimary(2);
    expect(await outcome(cluster.worker(2).scope.unload())).toEqual({ value: undefined });
    expect([cluster.worker(1).model.controls, cluster.worker(2).model.controls]).toEqual([['unload'], ['unload']]);
  });

  test.each([
    ['load', (scope: ServerScope) => scope.load({ version: '2' })],
    ['unload', (scope: ServerScope) => scope.unload()],
  ])('a %s that fails on some workers fails, saying how many and the first error', async (_, control) => {
    const { cluster, outcome } = startPrimary(3);
    cluster.worker(1).model.failure = 'no such object';
    cluster.worker(3).model.failure = 'access denied';
    expect(await outcome(control(cluster.worker(2).scope))).toEqual({
      error: '2 of the workers failed: no such object',
    });
  });

  test('controls run one at a time, in the order they came', async () => {
    const { cluster, outcome } = startPrimary(2);
    const release = cluster.worker(2).model.hold();
    const load = cluster.worker(1).scope.load({ version: '2' });
    const unload = cluster.worker(2).scope.unload();
    expect(await outcome(unload)).toBe('pending');
    expect(cluster.worker(1).model.controls).toEqual(['load {"version":"2"}']);
    release();
    expect(await outcome(load)).toEqual({ value: undefined });
    expect(await outcome(unload)).toEqual({ value: undefined });
    expect(cluster.worker(1).model.controls).toEqual(['load {"version":"2"}', 'unload']);
    expect(cluster.worker(2).model.controls).toEqual(['load {"version":"2"}', 'unload']);
  });

  test('a worker that is no longer connected is not waited for', async () => {
    const { cluster, outcome } = startPrimary(2);
    cluster.worker(2).connected = false;
    expect(await outcome(cluster.worker(1).scope.load({ version: '2' }))).toEqual({ value: undefined });
    expect(cluster.worker(2).model.controls).toEqual([]);
  });
});

describe('a worker that dies', () => {
  test('does not hang the control it was running; a second later another starts with the model loaded since', async () => {
    const { cluster, delayed, outcome, runDelayed, logged } = startPrimary(2);
    cluster.worker(2).model.hold();
    const load = cluster.worker(1).scope.load({ modelUri: 's3://m/2', version: '2' });
    expect(await outcome(load)).toBe('pending');
    cluster.worker(2).exit(1);
    expect(await outcome(load)).toEqual({ value: undefined });
    expect(logged('a worker died; starting another')).toEqual([{ worker: 2, code: 1, signal: null }]);

    expect(cluster.forks).toHaveLength(2);
    expect(delayed.map((d) => d.millis)).toEqual([REPLACEMENT_DELAY_MILLIS]);
    expect(REPLACEMENT_DELAY_MILLIS).toBe(1000);
    runDelayed();
    expect(cluster.forks[2]).toStrictEqual({ MODEL_URI: 's3://m/2', MODEL_VERSION: '2' });
    expect(Object.keys(cluster.workers)).toEqual(['1', '3']);
  });

  test('while the primary gathers its metrics gets no answer; the others get theirs', async () => {
    let aggregated!: (text: string) => void;
    const aggregation = new Promise<string>((resolve) => (aggregated = resolve));
    const { cluster, outcome } = startPrimary(2, () => aggregation);
    const dying = cluster.worker(1);
    const unanswered = dying.scope.exposition();
    const answered = cluster.worker(2).scope.exposition();
    await cluster.quiet();
    dying.exit(1);
    aggregated('# the whole server\n');
    expect(await outcome(answered)).toEqual({ value: '# the whole server\n' });
    expect(await outcome(unanswered)).toBe('pending');
  });

  test('while its controls wait gets no answer, and the controls after them still run', async () => {
    const { cluster, outcome, runDelayed } = startPrimary(1);
    const dying = cluster.worker(1);
    dying.model.hold();
    const unanswered = [dying.scope.load({ version: '2' }), dying.scope.unload()];
    await cluster.quiet();
    // The load waits for the dying worker alone; the unload after it finds no live worker at all.
    dying.exit(1);
    await cluster.quiet();
    runDelayed();
    const replacement = cluster.worker(2);
    expect(await outcome(replacement.scope.load({ version: '3' }))).toEqual({ value: undefined });
    expect(replacement.model.controls).toEqual(['load {"version":"3"}']);
    expect(await Promise.all(unanswered.map(outcome))).toEqual(['pending', 'pending']);
  });

  test('during a load, as every other worker does: the replacements start with the model from before', async () => {
    const { cluster, runDelayed } = startPrimary(2);
    await cluster.quiet();
    for (const id of [1, 2]) cluster.worker(id).model.hold();
    void cluster.worker(1).scope.load({ modelUri: 's3://m/out-of-memory', version: 'oom' });
    await cluster.quiet();
    cluster.worker(1).exit(null, 'SIGKILL');
    cluster.worker(2).exit(null, 'SIGKILL');
    await cluster.quiet();
    runDelayed();
    expect(cluster.forks.slice(2)).toStrictEqual([{}, {}]);
  });

  // node:cluster may yet deliver what a worker sent just before it exited.
  test.each([
    ['while the control still waits for another worker', [2, 3]],
    ['after the control was answered', [3, 2]],
  ])('is not counted if its answer comes after its exit: %s', async (_, releaseOrder) => {
    const { cluster, outcome } = startPrimary(3);
    const releases = new Map([2, 3].map((id) => [id, cluster.worker(id).model.hold()]));
    const dead = cluster.worker(2);
    const load = cluster.worker(1).scope.load({ version: '2' });
    await cluster.quiet();
    dead.exit(1);
    for (const id of releaseOrder) {
      releases.get(id)!(id === dead.id ? 'too late to count' : undefined);
      await cluster.quiet();
    }
    expect(await outcome(load)).toEqual({ value: undefined });
    expect(await outcome(cluster.worker(3).scope.unload())).toEqual({ value: undefined });
  });

  const NEW = { modelUri: 's3://m/new', version: 'new' };
  test.each<[string, (SourceChange | 'unload' | 'failing load')[], Record<string, string>]>([
    // fork(env) adds env to the primary's own environment: {} is the one the pod started with.
    ['nothing loaded since the start: the environment the pod started with', [], {}],
    ['a new model and its version', [NEW], { MODEL_URI: 's3://m/new', MODEL_VERSION: 'new' }],
    [
      'a new model with its reference',
      [{ ...NEW, referenceUri: 's3://r/new' }],
      { MODEL_URI: 's3://m/new', MODEL_VERSION: 'new', REFERENCE_URI: 's3://r/new' },
    ],
    [
      "a new model without a reference: the model's sibling, not the reference of the model before",
      [
        { ...NEW, referenceUri: 's3://r/old' },
        { modelUri: 's3://m/newer', version: 'newer' },
      ],
      { MODEL_URI: 's3://m/newer', MODEL_VERSION: 'newer' },
    ],
    [
      'a new reference for the same model',
      [NEW, { referenceUri: 's3://r/new' }],
      { MODEL_URI: 's3://m/new', MODEL_VERSION: 'new', REFERENCE_URI: 's3://r/new' },
    ],
    [
      'a new version name for the same files',
      [{ ...NEW, referenceUri: 's3://r/new' }, { version: 'renamed' }],
      { MODEL_URI: 's3://m/new', MODEL_VERSION: 'renamed', REFERENCE_URI: 's3://r/new' },
    ],
    ['a reload of the same model', [{}], {}],
    ['not a load that failed', [NEW, 'failing load'], { MODEL_URI: 's3://m/new', MODEL_VERSION: 'new' }],
    ['not an unload', [NEW, 'unload'], { MODEL_URI: 's3://m/new', MODEL_VERSION: 'new' }],
  ])('is replaced by one that loads the model the others serve: %s', async (_, controls, env) => {
    const { cluster, outcome, runDelayed } = startPrimary(2);
    for (const control of controls) {
      const scope = cluster.worker(1).scope;
      cluster.worker(2).model.failure = control === 'failing load' ? 'no such object' : undefined;
      await outcome(
        control === 'unload'
          ? scope.unload()
          : scope.load(control === 'failing load' ? { modelUri: 's3://m/broken', version: 'broken' } : control),
      );
    }
    cluster.worker(2).exit(null, 'SIGKILL');
    runDelayed();
    expect(cluster.forks[2]).toStrictEqual(env); // strict: MODEL_URI: undefined would unset the pod's own
  });
});

describe('signals', () => {
  test('SIGHUP goes to every worker', () => {
    const { cluster, process } = startPrimary(2);
    process.emit('SIGHUP', 'SIGHUP');
    expect([cluster.worker(1).signals, cluster.worker(2).signals]).toEqual([['SIGHUP'], ['SIGHUP']]);
    expect(process.exits).toEqual([]);
  });

  test.each(['SIGTERM', 'SIGINT'] as const)(
    '%s stops every worker, starts none in their place, and exits 0 once all have stopped',
    (signal) => {
      const { cluster, process, delayed, logged } = startPrimary(2);
      process.emit(signal, signal);
      expect(logged('stopping every worker')).toEqual([{ signal }]);
      expect([cluster.worker(1).signals, cluster.worker(2).signals]).toEqual([['SIGTERM'], ['SIGTERM']]);
      cluster.worker(1).exit(0);
      expect(process.exits).toEqual([]);
      expect(logged('every worker has stopped')).toEqual([]);
      cluster.worker(2).exit(0);
      expect(process.exits).toEqual([0]);
      expect(logged('every worker has stopped')).toEqual([{}]);
      expect(delayed).toEqual([]);
      expect(cluster.forks).toHaveLength(2);
    },
  );

  test('SIGTERM with no worker left exits 0 at once', () => {
    const { process } = startPrimary(0);
    process.emit('SIGTERM', 'SIGTERM');
    expect(process.exits).toEqual([0]);
  });
});

describe("the primary's real edges", () => {
  afterEach(() => jest.useRealTimers());

  test("are node:cluster, this process, prom-client's aggregation over the workers, and a timer", async () => {
    const edges = nodePrimaryEdges();
    expect(edges.cluster).toBe(cluster);
    expect(edges.process).toBe(process);
    await expect(edges.clusterMetrics()).resolves.toBe(''); // this process has no workers: the sum over none

    jest.useFakeTimers();
    const fired: string[] = [];
    edges.delay(() => fired.push('replacement'), REPLACEMENT_DELAY_MILLIS);
    jest.advanceTimersByTime(REPLACEMENT_DELAY_MILLIS - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual(['replacement']);
  });
});

test("a worker's channel is its process's IPC to the primary, both ways", () => {
  const sent: unknown[] = [];
  const ipc = Object.assign(new EventEmitter(), { send: (message: unknown) => sent.push(message) > 0 });
  try {
    const channel = clusterChannel(new Registry(), ipc as unknown as WorkerIpc);
    const heard: Message[] = [];
    channel.on('message', (message) => heard.push(message));
    channel.send({ modelops: 'metrics', id: 7 });
    ipc.emit('message', { modelops: 'metrics-result', id: 7, text: '' });
    expect(sent).toEqual([{ modelops: 'metrics', id: 7 }]);
    expect(heard).toEqual([{ modelops: 'metrics-result', id: 7, text: '' }]);
  } finally {
    AggregatorRegistry.setRegistries([register]); // prom-client's default
  }
});
