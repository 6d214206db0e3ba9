import pino from 'pino';
import { Registry } from 'prom-client';
import type { Client } from './client.js';
import { FakeClock } from './clock.js';
import { Controller, type ReconcileResult } from './controller.js';
import { mapToSelf } from './enqueue.js';
import { ApiError, ConflictError, TerminalError } from './errors.js';
import type { EventRecorder } from './events.js';
import { RuntimeMetrics } from './metrics.js';
import { Cache } from './store/cache.js';
import type { StatusWriter } from './status.js';
import type { ObjectKey, ResourceRef } from './types.js';

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

function setup(reconcile: (key: ObjectKey) => Promise<ReconcileResult>, workers = 1) {
  const clock = new FakeClock();
  const metrics = new RuntimeMetrics(new Registry());
  const controller = new Controller(
    { name: 'tj', for: ref, workers, reconcile: (_ctx, key) => reconcile(key) },
    {
      client: {} as Client,
      cache: new Cache(),
      recorder: {} as EventRecorder,
      status: {} as StatusWriter,
      logger: pino({ level: 'silent' }),
      metrics,
      clock,
    },
  );
  const total = async (result: string): Promise<number> =>
    (await metrics.reconcileTotal.get()).values.find((v) => v.labels.result === result && v.labels.controller === 'tj')
      ?.value ?? 0;
  const counter = async (c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> =>
    (await c.get()).values[0]?.value ?? 0;
  return { clock, metrics, controller, total, counter };
}

const enqueue = (controller: Controller, name: string): void =>
  controller.handlers(mapToSelf()).onAdd!({ metadata: { namespace: 'ns', name } });

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
        { details: { causes: [{ type: 'NamespaceTerminating' }] } },
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
});
