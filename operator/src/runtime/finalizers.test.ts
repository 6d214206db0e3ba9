import { ConflictError } from './errors.js';
import { Finalizers, hasFinalizer, isBeingDeleted } from './finalizers.js';
import { InMemoryCluster } from './testing/index.js';
import type { KubernetesObject, ResourceRef } from './types.js';

const MV: ResourceRef = {
  group: 'modelops.dev',
  version: 'v1alpha1',
  plural: 'modelversions',
  kind: 'ModelVersion',
  namespaced: true,
};
const key = { namespace: 'ml', name: 'fraud-v2' };
const ROUTING = 'modelops.dev/traffic';

function setup(finalizers: string[] = []) {
  const cluster = new InMemoryCluster();
  cluster.seed(MV, { metadata: { ...key, finalizers }, spec: { model: 'fraud' } });
  const current = () => cluster.get<KubernetesObject>(MV, key);
  return { cluster, finalizers: new Finalizers(cluster.client), current };
}

describe('Finalizers', () => {
  test("add keeps the other controllers' finalizers and writes nothing when already there", async () => {
    const { cluster, finalizers, current } = setup(['other.dev/cleanup']);
    await finalizers.add(MV, current()!, ROUTING);
    await finalizers.add(MV, current()!, ROUTING);
    expect(current()!.metadata?.finalizers).toEqual(['other.dev/cleanup', ROUTING]);
    expect(cluster.writes).toHaveLength(1);
  });

  test('deletion waits for the finalizer; removing it lets the object go', async () => {
    const { cluster, finalizers, current } = setup();
    await finalizers.add(MV, current()!, ROUTING);
    await cluster.client.delete(MV, key);
    const deleting = current()!;
    expect(deleting.metadata?.deletionTimestamp).toBeDefined(); // still there: the controller sees an update
    // no new finalizers on an object being deleted (the API server would refuse)
    expect(await finalizers.add(MV, deleting, 'late.dev/x')).toBe(deleting);
    await finalizers.remove(MV, deleting, ROUTING);
    expect(current()).toBeUndefined();
  });

  test('a stale copy conflicts instead of overwriting a finalizer list another controller just changed', async () => {
    const { finalizers, current } = setup();
    const stale = current()!;
    await finalizers.add(MV, stale, 'other.dev/cleanup');
    await expect(finalizers.add(MV, stale, ROUTING)).rejects.toBeInstanceOf(ConflictError);
    expect(hasFinalizer(current()!, 'other.dev/cleanup')).toBe(true);
  });

  test('remove takes only its own finalizer, and writes nothing when it is not there', async () => {
    const { cluster, finalizers, current } = setup(['other.dev/cleanup', ROUTING, 'third.dev/x']);
    await finalizers.remove(MV, current()!, ROUTING);
    expect(current()!.metadata?.finalizers).toEqual(['other.dev/cleanup', 'third.dev/x']);
    const unchanged = current()!;
    expect(await finalizers.remove(MV, unchanged, ROUTING)).toBe(unchanged);
    expect(cluster.writes).toHaveLength(1);
  });

  test('remove with a stale copy conflicts (only NotFound is swallowed)', async () => {
    const { finalizers, current } = setup([ROUTING]);
    const stale = current()!;
    await finalizers.add(MV, stale, 'other.dev/cleanup');
    await expect(finalizers.remove(MV, stale, ROUTING)).rejects.toBeInstanceOf(ConflictError);
    expect(current()!.metadata?.finalizers).toEqual([ROUTING, 'other.dev/cleanup']);
  });

  test('removing from an object already gone is not an error', async () => {
    const { cluster, finalizers, current } = setup([ROUTING]);
    const copy = current()!;
    await cluster.client.patch(MV, key, { metadata: { finalizers: [] } });
    await cluster.client.delete(MV, key);
    await expect(finalizers.remove(MV, copy, ROUTING)).resolves.toBeUndefined();
  });
});

test('hasFinalizer and isBeingDeleted on objects with and without the fields', () => {
  expect(hasFinalizer({}, ROUTING)).toBe(false);
  expect(hasFinalizer({ metadata: { name: 'x' } }, ROUTING)).toBe(false);
  expect(hasFinalizer({ metadata: { finalizers: ['other.dev/x'] } }, ROUTING)).toBe(false);
  expect(hasFinalizer({ metadata: { finalizers: ['other.dev/x', ROUTING] } }, ROUTING)).toBe(true);
  expect([isBeingDeleted({}), isBeingDeleted({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } })]).toEqual([
    false,
    true,
  ]);
});

test('add to an object that has no finalizer list yet', async () => {
  const cluster = new InMemoryCluster();
  cluster.seed(MV, { metadata: { ...key }, spec: { model: 'fraud' } });
  const written = await new Finalizers(cluster.client).add(MV, cluster.get<KubernetesObject>(MV, key)!, ROUTING);
  expect(written.metadata?.finalizers).toEqual([ROUTING]);
});
