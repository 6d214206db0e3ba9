import { FakeClock } from './testing/fake-clock.js';
import { ConflictError } from './errors.js';
import { StatusWriter } from './status.js';
import { InMemoryCluster } from './testing/index.js';
import type { KubernetesObject, ResourceRef } from './types.js';

const WIDGET: ResourceRef = { group: 'x.dev', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };
const key = { namespace: 'ns', name: 'w' };
const ready = (status: 'True' | 'False', reason = 'Running') => ({ type: 'Ready', status, reason, message: '' });

function setup(status?: Record<string, unknown>) {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const cluster = new InMemoryCluster({ clock });
  cluster.seed(WIDGET, { metadata: { ...key, generation: 2 }, spec: { size: 1 }, ...(status ? { status } : {}) });
  const writer = new StatusWriter(cluster.client, clock);
  const current = () => cluster.get<KubernetesObject & { status?: Record<string, unknown> }>(WIDGET, key)!;
  return { clock, cluster, writer, current };
}

describe('StatusWriter', () => {
  test('writes a new status once; the same desired status on later passes writes nothing', async () => {
    const { clock, cluster, writer, current } = setup();
    const desired = { phase: 'Running', conditions: [ready('True')] };
    expect(await writer.update(WIDGET, current(), desired)).toBe(true);
    clock.advance(3_600_000);
    expect(await writer.update(WIDGET, current(), desired)).toBe(false);
    expect(await writer.update(WIDGET, current(), desired)).toBe(false);
    expect(cluster.writes.map((w) => w.verb)).toEqual(['updateStatus']);
    expect(current().status).toEqual({
      phase: 'Running',
      conditions: [{ ...ready('True'), observedGeneration: 2, lastTransitionTime: '2026-01-01T00:00:00Z' }],
    });
  });

  test('a condition keeps lastTransitionTime while its status holds, and moves it when the status flips', async () => {
    const { clock, writer, current } = setup();
    await writer.update(WIDGET, current(), { conditions: [ready('True', 'A')] });
    clock.advance(60_000);
    await writer.update(WIDGET, current(), { conditions: [ready('True', 'B')] }); // reason changed, status held
    expect(current().status).toMatchObject({
      conditions: [{ reason: 'B', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    });
    clock.advance(60_000);
    await writer.update(WIDGET, current(), { conditions: [ready('False', 'C')] });
    expect(current().status).toMatchObject({
      conditions: [{ status: 'False', lastTransitionTime: '2026-01-01T00:02:00Z' }],
    });
  });

  test('a new generation is written (observedGeneration moves) without moving lastTransitionTime', async () => {
    const { cluster, writer, current } = setup();
    await writer.update(WIDGET, current(), { conditions: [ready('True')] });
    await cluster.client.patch(WIDGET, key, { spec: { size: 2 } });
    expect(current().metadata?.generation).toBe(3);
    expect(await writer.update(WIDGET, current(), { conditions: [ready('True')] })).toBe(true);
    expect(current().status).toMatchObject({
      conditions: [{ observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z' }],
    });
  });

  test('keeps fields it is not told about and removes fields set to undefined', async () => {
    const { writer, current } = setup({ phase: 'Running', startTime: 'a', message: 'm' });
    expect(await writer.update(WIDGET, current(), { phase: 'Running' })).toBe(false);
    await writer.update(WIDGET, current(), { message: undefined });
    expect(current().status).toEqual({ phase: 'Running', startTime: 'a' });
    // Removing a field that is already gone is no change.
    expect(await writer.update(WIDGET, current(), { message: undefined })).toBe(false);
  });

  test('a stale copy fails with ConflictError instead of overwriting a newer status', async () => {
    const { writer, current } = setup();
    const stale = current();
    await writer.update(WIDGET, stale, { phase: 'A' });
    await expect(writer.update(WIDGET, stale, { phase: 'B' })).rejects.toBeInstanceOf(ConflictError);
    expect(current().status).toEqual({ phase: 'A' });
  });
});
