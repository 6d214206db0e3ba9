import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { FakeClock } from './testing/fake-clock.js';
import { Controller, followUpWorkers, type ReconcileContext, type ReconcileResult } from './controller.js';
import { mapToSelf } from './enqueue.js';
import { ApiError, ConflictError, ReconcileAbortedError, TerminalError } from './errors.js';
import { RuntimeMetrics } from './metrics.js';
import { InMemoryCluster } from './testing/index.js';
import type { KubernetesObject, ObjectKey, ResourceRef } from './types.js';

const ref: ResourceRef = {
  group: 'modelops.dev',
  version: 'v1alpha1',
  plural: 'trainingjobs',
  kind: 'TrainingJob',
  namespaced: true,
};
const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function setup(
  reconcile: (key: ObjectKey, ctx: ReconcileContext) => Promise<ReconcileResult>,
  workers = 1,
  reconcileTimeoutMs?: number,
  logger: Logger = pino({ level: 'silent' }),
) {
  const clock = new FakeClock();
  const cluster = new InMemoryCluster({ clock });
  const metrics = new RuntimeMetrics(new Registry());
  const controller = new Controller(
    { name: 'tj', for: ref, workers, reconcileTimeoutMs, reconcile: (ctx, key) => reconcile(key, ctx) },
    {
      client: (scope) => cluster.clientFor(scope),
      cache: cluster.cache,
      recorder: cluster.recorder,
      logger,
      metrics,
      clock,
    },
  );
  const total = async (result: string): Promise<number> =>
    (await metrics.reconcileTotal.get()).values.find((v) => v.labels.result === result && v.labels.controller === 'tj')
      ?.value ?? 0;
  const counter = async (c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> =>
    (await c.get()).values[0]?.value ?? 0;
  return { clock, cluster, metrics, controller, total, counter };
}

/** A follow-up (priority 0, at most half the workers at once): a child's event, say. */
const enqueue = (controller: Controller, name: string): void =>
  controller.handlers(mapToSelf).onAdd!({ metadata: { namespace: 'ns', name } });
/** What a user asked for: the reconciled object created, which any free worker takes. */
const create = (controller: Controller, name: string): void =>
  controller.handlers(mapToSelf, { userChanges: true }).onAdd!({ metadata: { namespace: 'ns', name } });

/** A reconcile that waits on its signal, as a client call to a hung server would. */
const hang = (_key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult> =>
  new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('socket destroyed'))));

describe('Controller', () => {
  test('success forgets the key; requeueAfter re-adds it after the delay', async () => {
    const calls: string[] = [];
    const { clock, controller, total } = setup(async (key) => {
      calls.push(key.name);
      return calls.length === 1 ? { requeueAfterMs: 30_000 } : undefined;
    });
    controller.start();
    enqueue(controller, 'a');
    await flush();
    expect(calls).toEqual(['a']);
    clock.advance(29_999);
    await flush();
    expect(calls).toEqual(['a']);
    clock.advance(1);
    await flush();
    expect(calls).toEqual(['a', 'a']);
    expect(await total('requeue_after')).toBe(1);
    expect(await total('success')).toBe(1);
    await controller.stop();
  });

  test("the reconciled resource's creates, deletes and new generations queue ahead of follow-ups", async () => {
    const calls: string[] = [];
    const { controller } = setup(async (key) => void calls.push(key.name));
    const own = controller.handlers(mapToSelf, { userChanges: true });
    const dependents = controller.handlers(mapToSelf);
    const obj = (name: string, generation = 1, deletionTimestamp?: string) => ({
      metadata: { namespace: 'ns', name, generation, ...(deletionTimestamp ? { deletionTimestamp } : {}) },
    });
    dependents.onAdd!(obj('child-event'));
    own.onUpdate!(obj('status-written'), obj('status-written'));
    dependents.onAdd!(obj('created')); // a follow-up first, then the create raises it
    own.onAdd!(obj('created'));
    own.onUpdate!(obj('spec-edited'), obj('spec-edited', 2));
    own.onUpdate!(obj('being-deleted'), obj('being-deleted', 1, '2026-01-01T00:00:00Z'));
    own.onDelete!(obj('deleted'));
    dependents.onUpdate!(obj('child-edited'), obj('child-edited', 2));
    controller.start();
    await flush();
    expect(calls).toEqual([
      'created',
      'spec-edited',
      'being-deleted',
      'deleted',
      'child-event',
      'status-written',
      'child-edited',
    ]);
    await controller.stop();
  });

  test('errors retry with growing backoff; a terminal error is counted and not retried', async () => {
    let n = 0;
    const { clock, controller, total, counter, metrics } = setup(async () => {
      n++;
      if (n < 3) throw new Error('transient');
      throw new TerminalError('bad spec');
    });
    controller.start();
    enqueue(controller, 'a');
    await flush();
    expect(n).toBe(1);
    clock.advance(5); // first retry after 5 ms
    await flush();
    expect(n).toBe(2);
    clock.advance(9);
    await flush();
    expect(n).toBe(2); // second retry waits 10 ms
    clock.advance(1);
    await flush();
    expect(n).toBe(3);
    clock.advance(3_600_000);
    await flush();
    expect(n).toBe(3);
    expect(await total('error')).toBe(3);
    expect(await counter(metrics.reconcileErrors)).toBe(3);
    expect(await counter(metrics.terminalReconcileErrors)).toBe(1);
    await controller.stop();
  });

  test('a conflict is a quiet requeue, not an error', async () => {
    let n = 0;
    const { clock, controller, total, counter, metrics } = setup(async () => {
      if (n++ === 0) throw new ConflictError(409, 'Conflict', 'stale');
    });
    controller.start();
    enqueue(controller, 'a');
    await flush();
    clock.advance(5);
    await flush();
    expect(n).toBe(2);
    expect(await total('requeue')).toBe(1);
    expect(await counter(metrics.reconcileErrors)).toBe(0);
    await controller.stop();
  });

  test('a write refused because the namespace is being deleted drops the key without an error or a retry', async () => {
    let n = 0;
    const { clock, controller, total, counter, metrics } = setup(async () => {
      n++;
      throw new ApiError(
        403,
        'Forbidden',
        'unable to create new content in namespace x because it is being terminated',
        { details: { causes: [{ reason: 'NamespaceTerminating', field: 'metadata.namespace' }] } },
      );
    });
    controller.start();
    enqueue(controller, 'a');
    await flush();
    clock.advance(3_600_000);
    await flush();
    expect(n).toBe(1);
    expect(await counter(metrics.reconcileErrors)).toBe(0);
    expect(await total('success')).toBe(1);
    await controller.stop();
  });

  test.each([
    [1, 1],
    [2, 1],
    [3, 2],
    [32, 16],
  ])('with %i workers, follow-ups hold at most %i of them', (workers, followUps) => {
    expect(followUpWorkers(workers)).toBe(followUps);
  });

  test('slow follow-ups hold half the workers: a new object is reconciled while they run', async () => {
    const started: string[] = [];
    const releases: (() => void)[] = [];
    const { controller } = setup(async (key) => {
      started.push(key.name);
      await new Promise<void>((r) => releases.push(r));
    }, 4);
    const dependents = controller.handlers(mapToSelf);
    controller.start();
    for (const name of ['f1', 'f2', 'f3', 'f4']) dependents.onAdd!({ metadata: { namespace: 'ns', name } });
    await flush();
    expect(started).toEqual(['f1', 'f2']);
    controller.handlers(mapToSelf, { userChanges: true }).onAdd!({ metadata: { namespace: 'ns', name: 'created' } });
    await flush();
    expect(started).toEqual(['f1', 'f2', 'created']);
    releases.shift()!(); // f1 done: f3 takes its slot
    await flush();
    expect(started).toEqual(['f1', 'f2', 'created', 'f3']);
    const stopped = controller.stop();
    releases.splice(0).forEach((r) => r());
    await stopped;
  });

  test('with several workers, distinct keys run in parallel but one key never does; stop drains', async () => {
    const running = new Map<string, number>();
    let maxSameKey = 0;
    let maxTotal = 0;
    const releases: (() => void)[] = [];
    const { controller } = setup(async (key) => {
      running.set(key.name, (running.get(key.name) ?? 0) + 1);
      maxSameKey = Math.max(maxSameKey, running.get(key.name)!);
      maxTotal = Math.max(
        maxTotal,
        [...running.values()].reduce((a, b) => a + b, 0),
      );
      await new Promise<void>((r) => releases.push(r));
      running.set(key.name, running.get(key.name)! - 1);
    }, 3);
    controller.start();
    enqueue(controller, 'a');
    enqueue(controller, 'b');
    await flush();
    enqueue(controller, 'a'); // while a is in flight
    await flush();
    expect(maxTotal).toBe(2);
    releases.shift()!(); // finish the first 'a' → the parked 'a' runs next
    await flush();
    expect(maxSameKey).toBe(1);
    const stopped = controller.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await flush();
    expect(done).toBe(false); // in-flight reconciles still running
    releases.splice(0).forEach((r) => r());
    await stopped;
    expect(running.get('a')).toBe(0);
  });

  test('a failing reconcile tells the user: a Warning Event on the object the key names', async () => {
    const { cluster, controller } = setup(async () => {
      throw new ApiError(
        422,
        'Invalid',
        'Job.batch "x" is invalid: spec.template.spec.containers[0].env[0].name: Invalid value',
      );
    });
    cluster.seed(ref, { metadata: { namespace: 'ns', name: 'a' } });
    cluster.seed(ref, { metadata: { namespace: 'ns', name: 'b' } });
    controller.start();
    enqueue(controller, 'no-such-object'); // a key without an object: logged only, and the worker goes on
    enqueue(controller, 'a');
    enqueue(controller, 'b');
    await flush();
    const warning = (name: string) => ({
      regarding: { kind: 'TrainingJob', namespace: 'ns', name },
      type: 'Warning',
      reason: 'ReconcileError',
      message: 'tj controller: Job.batch "x" is invalid: spec.template.spec.containers[0].env[0].name: Invalid value',
    });
    expect(cluster.events).toEqual([warning('a'), warning('b')]);
    await controller.stop();
  });

  test('a reconcile that fails while its resource is not served counts as an error, without an Event (the object cannot be read)', async () => {
    let fail!: (err: Error) => void;
    const { cluster, controller, total } = setup(() => new Promise((_resolve, reject) => (fail = reject)));
    cluster.seed(ref, { metadata: { namespace: 'ns', name: 'a' } });
    controller.start();
    enqueue(controller, 'a');
    await flush();
    const stopped = controller.stop(60_000); // a grace period: the reconcile ends on its own
    cluster.setAvailable(ref, false); // the CRD went away during the reconcile
    fail(new Error('the server could not find the requested resource'));
    await expect(stopped).resolves.toBeUndefined();
    expect([await total('error'), cluster.events]).toEqual([1, []]);
  });

  test('each reconcile gets a signal that fires at its deadline: the hung call fails, the key is retried, the user is told', async () => {
    let calls = 0;
    let deadline: Date | undefined;
    let signal: AbortSignal | undefined;
    const { clock, cluster, controller, total } = setup(
      (key, ctx) => {
        calls++;
        deadline = ctx.deadline;
        signal = ctx.signal;
        return hang(key, ctx);
      },
      1,
      30_000,
    );
    cluster.seed(ref, { metadata: { namespace: 'ns', name: 'a' } });
    controller.start();
    enqueue(controller, 'a');
    await flush();
    expect(deadline).toEqual(new Date(clock.now().getTime() + 30_000));
    clock.advance(29_999);
    await flush();
    expect(await total('error')).toBe(0);
    clock.advance(1);
    await flush();
    expect(await total('error')).toBe(1);
    expect(signal!.reason).toMatchObject({ name: 'ReconcileAbortedError', reason: 'deadline' });
    expect(cluster.events.map((e) => e.message)).toEqual(['tj controller: reconcile did not finish within 30000 ms']);
    clock.advance(5); // the rate-limited retry
    await flush();
    expect(calls).toBe(2);
    const stopped = controller.stop(0);
    await flush();
    await stopped;
  });

  test("the signal aborts the reconcile's client calls", async () => {
    const seen: unknown[] = [];
    const abort = new AbortController();
    const cluster = new InMemoryCluster();
    abort.abort(new ReconcileAbortedError('deadline', 'too slow'));
    const client = cluster.clientFor({ signal: abort.signal });
    await client.get(ref, { namespace: 'ns', name: 'x' }).catch((e: unknown) => seen.push(e));
    expect(seen).toEqual([abort.signal.reason]);
  });

  test('stop gives in-flight reconciles a grace period, then aborts their signals; aborted work is not an error', async () => {
    const { clock, cluster, controller, total } = setup(hang);
    cluster.seed(ref, { metadata: { namespace: 'ns', name: 'a' } });
    controller.start();
    enqueue(controller, 'a');
    await flush();
    let stopped = false;
    void controller.stop(5_000).then(() => (stopped = true));
    clock.advance(4_999);
    await flush();
    expect(stopped).toBe(false);
    clock.advance(1);
    await flush();
    expect(stopped).toBe(true);
    expect(await total('error')).toBe(0);
    expect(cluster.events).toEqual([]);
  });

  test('stop right after a key was handed out, before its reconcile began: the same grace, then the abort', async () => {
    const { clock, controller } = setup(hang);
    controller.start();
    await flush(); // the worker waits for a key
    create(controller, 'a'); // handed to it; its reconcile starts on the next tick
    let stopped = false;
    void controller.stop(5_000).then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    clock.advance(5_000);
    await flush();
    expect(stopped).toBe(true);
  });

  test('requeueAll enqueues the keys of every object of the reconciled kind', async () => {
    const seen: string[] = [];
    const { cluster, controller } = setup(async (key) => void seen.push(key.name));
    cluster.seed(ref, { metadata: { namespace: 'ns', name: 'a' } }, { metadata: { namespace: 'other', name: 'b' } });
    controller.start();
    controller.requeueAll();
    await flush();
    expect(seen.sort()).toEqual(['a', 'b']);
    await controller.stop();
  });

  test('requeueAll before the reconciled kind is available enqueues nothing (and does not throw)', async () => {
    const seen: string[] = [];
    const { cluster, controller } = setup(async (key) => void seen.push(key.name));
    cluster.seed(ref, { metadata: { namespace: 'ns', name: 'a' } });
    cluster.setAvailable(ref, false);
    controller.start();
    controller.requeueAll();
    await flush();
    expect(seen).toEqual([]);
    await controller.stop();
  });

  test("a `for` with a map: requeueAll enqueues the map's keys (one per model, not per object)", async () => {
    const seen: string[] = [];
    const clock = new FakeClock();
    const cluster = new InMemoryCluster({ clock });
    const byModel = (obj: KubernetesObject) => [{ namespace: 'ns', name: (obj.spec as { model: string }).model }];
    const controller = new Controller(
      { name: 'mv', for: { resource: ref, map: byModel }, reconcile: async (_ctx, key) => void seen.push(key.name) },
      {
        client: (scope) => cluster.clientFor(scope),
        cache: cluster.cache,
        recorder: cluster.recorder,
        logger: pino({ level: 'silent' }),
        metrics: new RuntimeMetrics(new Registry()),
        clock,
      },
    );
    cluster.seed(
      ref,
      { metadata: { namespace: 'ns', name: 'fraud-v1' }, spec: { model: 'fraud' } },
      { metadata: { namespace: 'ns', name: 'fraud-v2' }, spec: { model: 'fraud' } },
    );
    controller.start();
    controller.requeueAll();
    await flush();
    expect(new Set(seen)).toEqual(new Set(['fraud']));
    await controller.stop();
  });

  test('an update whose old and new objects map to different keys enqueues both (a dependent moved owners); a resync maps its object once', async () => {
    const seen: string[] = [];
    const mapped: string[] = [];
    const { controller } = setup(async (key) => void seen.push(key.name));
    const byOwner = (obj: { metadata?: { labels?: Record<string, string> } }) => {
      mapped.push(obj.metadata!.labels!.owner!);
      return [{ namespace: 'ns', name: obj.metadata!.labels!.owner! }];
    };
    const handlers = controller.handlers(byOwner);
    controller.start();
    handlers.onUpdate!({ metadata: { labels: { owner: 'old' } } }, { metadata: { labels: { owner: 'new' } } });
    await flush();
    expect(seen.sort()).toEqual(['new', 'old']);
    // A resync hands the same object as old and new: one map call (a map may scan the cache), one reconcile.
    const resynced = { metadata: { labels: { owner: 'same' } } };
    mapped.length = 0;
    handlers.onUpdate!(resynced, resynced);
    await flush();
    expect([mapped, seen.filter((name) => name === 'same')]).toEqual([['same'], ['same']]);
    await controller.stop();
  });

  test('start twice: still one worker per configured worker', async () => {
    const releases: (() => void)[] = [];
    let running = 0;
    let most = 0;
    const { controller } = setup(async () => {
      most = Math.max(most, ++running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
    });
    controller.start();
    controller.start();
    create(controller, 'a');
    create(controller, 'b');
    await flush();
    expect(most).toBe(1);
    const stopped = controller.stop();
    while (releases.length || running) {
      releases.splice(0).forEach((r) => r());
      await flush();
    }
    await stopped;
  });

  test("a reconcile's context: its field manager on every write, the clock's now, a requeueAfter of 0 is a success", async () => {
    const nows: Date[] = [];
    const { clock, cluster, controller, total } = setup(async (_key, ctx) => {
      nows.push(ctx.now());
      await ctx.client.patch(ref, { namespace: 'ns', name: 'a' }, { metadata: { labels: { seen: 'yes' } } });
      return { requeueAfterMs: 0 };
    });
    cluster.seed(ref, { metadata: { namespace: 'ns', name: 'a' } });
    clock.advance(90_000);
    controller.start();
    enqueue(controller, 'a');
    await flush();
    expect(nows).toEqual([clock.now()]);
    expect(cluster.writes.map((w) => w.fieldManager)).toEqual(['modelops-tj']);
    expect([await total('success'), await total('requeue_after')]).toEqual([1, 0]);
    clock.advance(60_000);
    await flush();
    expect(nows).toHaveLength(1);
    await controller.stop();
  });

  test('the time each reconcile took, in seconds, in controller_runtime_reconcile_time_seconds', async () => {
    const { clock, metrics, controller } = setup(async () => {
      clock.advance(1500);
    });
    clock.advance(60_000); // the monotonic clock is not at 0 when the reconcile starts
    controller.start();
    enqueue(controller, 'a');
    await flush();
    const { values } = await metrics.reconcileTime.get();
    const sample = (name: string) => values.find((v) => v.metricName === name && v.labels.controller === 'tj')?.value;
    expect(sample('controller_runtime_reconcile_time_seconds_sum')).toBe(1.5);
    expect(sample('controller_runtime_reconcile_time_seconds_count')).toBe(1);
    await controller.stop();
  });

  test('stop tells in-flight reconciles why their signal fired', async () => {
    let reason: unknown;
    const { cluster, controller } = setup((key, ctx) => {
      ctx.signal.addEventListener('abort', () => (reason = ctx.signal.reason));
      return hang(key, ctx);
    });
    cluster.seed(ref, { metadata: { namespace: 'ns', name: 'a' } });
    controller.start();
    enqueue(controller, 'a');
    await flush();
    await controller.stop(0);
    expect(reason).toMatchObject({
      name: 'ReconcileAbortedError',
      reason: 'shutdown',
      message: 'controller tj is stopping',
    });
  });

  test('the log follows each key (controller, reconcileID, key on every line) and says what happened', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const terminating = { details: { causes: [{ reason: 'NamespaceTerminating' }] } };
    const failures: Record<string, Error[]> = {
      a: [new ConflictError(409, 'Conflict', 'stale'), new Error('transient')],
      b: [new ApiError(403, 'Forbidden', 'namespace ns is terminating', terminating)],
      c: [new TerminalError('bad spec')],
    };
    const { clock, controller } = setup(
      async (key, ctx) => {
        const next = failures[key.name]?.shift();
        if (next) throw next;
        if (key.name === 'd') return hang(key, ctx);
      },
      1,
      undefined,
      logger,
    );
    controller.start();
    for (const name of ['a', 'b', 'c']) enqueue(controller, name);
    await flush();
    clock.advance(5); // a's retry
    await flush();
    enqueue(controller, 'd');
    await flush();
    await controller.stop(0);
    const said = lines.map(({ level, msg, name, err, retries, workers }) => ({
      level,
      msg,
      name,
      err: (err as Error | undefined)?.message ?? err,
      retries,
      workers,
    }));
    expect(said).toEqual([
      { level: 30, msg: 'starting workers', workers: 1 },
      { level: 20, msg: 'conflict: object changed since it was read; requeueing', name: 'a', err: 'stale' },
      { level: 20, msg: 'namespace is being deleted; dropping the key', name: 'b', err: 'namespace ns is terminating' },
      { level: 50, msg: 'reconcile failed terminally; not retrying', name: 'c', err: 'bad spec' },
      { level: 50, msg: 'reconcile failed; retrying with backoff', name: 'a', err: 'transient', retries: 2 },
      { level: 30, msg: 'reconcile aborted: the controller is stopping', name: 'd' },
    ]);
    for (const line of lines) expect(line).toMatchObject({ controller: 'tj' });
    for (const line of lines.slice(1))
      expect(line).toMatchObject({ namespace: 'ns', reconcileID: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(new Set(lines.slice(1).map((l) => l.reconcileID)).size).toBe(lines.length - 1);
  });
});
