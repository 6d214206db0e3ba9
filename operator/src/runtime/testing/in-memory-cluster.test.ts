// The in-memory cluster keeps the API server's rules that reconcilers rely on.
import { AlreadyExistsError, ApiError, ConflictError, NotFoundError, ResourceUnavailableError } from '../errors.js';
import { byField } from '../store/indexes.js';
import type { ControllerOptions } from '../controller.js';
import type { KubernetesObject, ResourceRef } from '../types.js';
import { InMemoryCluster } from './index.js';

const JOB: ResourceRef = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };
const POD: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
const key = { namespace: 'ml', name: 'train' };
type Job = KubernetesObject & { spec?: { suspend?: boolean }; status?: { active?: number } };

describe('InMemoryCluster', () => {
  test('create assigns uid, generation and resourceVersion, drops status, refuses a duplicate', async () => {
    const cluster = new InMemoryCluster();
    const created = await cluster.client.create<Job>(JOB, {
      metadata: key,
      spec: { suspend: true },
      status: { active: 3 },
    });
    expect(created.metadata).toMatchObject({ ...key, uid: 'uid-1', generation: 1, resourceVersion: '1' });
    expect(created).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job' });
    expect(created.status).toBeUndefined();
    await expect(cluster.client.create(JOB, { metadata: key })).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  test('spec changes bump generation, metadata changes do not; status only through /status; stale writes conflict', async () => {
    const cluster = new InMemoryCluster();
    const created = await cluster.client.create<Job>(JOB, { metadata: key, spec: { suspend: true } });
    const relabelled = await cluster.client.patch<Job>(JOB, key, { metadata: { labels: { a: 'b' } } });
    expect(relabelled.metadata?.generation).toBe(1);
    const resumed = await cluster.client.patch<Job>(JOB, key, { spec: { suspend: false } });
    expect(resumed.metadata?.generation).toBe(2);
    await cluster.client.update<Job>(JOB, { ...resumed, status: { active: 9 } });
    expect(cluster.get<Job>(JOB, key)!.status).toBeUndefined();
    await cluster.client.updateStatus<Job>(JOB, { ...cluster.get<Job>(JOB, key)!, status: { active: 1 } });
    expect(cluster.get<Job>(JOB, key)!.status).toEqual({ active: 1 });
    await expect(cluster.client.update(JOB, created)).rejects.toBeInstanceOf(ConflictError);
    await expect(cluster.client.get(JOB, { namespace: 'ml', name: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
  });

  test('records each write with the field manager of the controller that made it', async () => {
    const cluster = new InMemoryCluster();
    const controller: ControllerOptions = {
      name: 'trainingjob',
      for: JOB,
      reconcile: async (ctx) => void (await ctx.client.create(JOB, { metadata: key })),
    };
    await cluster.reconcile(controller, key);
    expect(cluster.writes).toEqual([
      { verb: 'create', resource: 'jobs.batch/v1', key, fieldManager: 'modelops-trainingjob' },
    ]);
  });

  test('a reconcile context reads only what the controller declared, and its indexes', async () => {
    const cluster = new InMemoryCluster();
    cluster.seed(JOB, { metadata: { namespace: 'ml', name: 'a' }, spec: { model: 'fraud' } });
    cluster.seed(JOB, { metadata: { namespace: 'ml', name: 'b' }, spec: { model: 'churn' } });
    const controller: ControllerOptions = {
      name: 'x',
      for: JOB,
      indexes: [{ resource: JOB, name: 'spec.model', keys: byField('spec.model') }],
      reconcile: async () => {},
    };
    const ctx = cluster.context(controller);
    expect(ctx.cache.list(JOB, { index: { name: 'spec.model', value: 'fraud' } }).map((j) => j.metadata?.name)).toEqual(
      ['a'],
    );
    expect(() => ctx.cache.list(POD)).toThrow("no informer for pods/v1: list it in a controller's for/owns/watches");
  });

  test('an unserved resource: reads throw, writes answer 404, isAvailable says so', async () => {
    const cluster = new InMemoryCluster();
    cluster.setAvailable(JOB, false);
    expect(cluster.cache.isAvailable(JOB)).toBe(false);
    expect(() => cluster.cache.get(JOB, key)).toThrow(ResourceUnavailableError);
    await expect(cluster.client.create(JOB, { metadata: key })).rejects.toBeInstanceOf(NotFoundError);
  });

  test('interceptWrites makes the server refuse a write, as admission or validation would', async () => {
    const cluster = new InMemoryCluster();
    const invalid = new ApiError(422, 'Invalid', 'Job.batch "train" is invalid');
    cluster.interceptWrites(({ verb, ref }) => (verb === 'create' && ref === JOB ? invalid : undefined));
    await expect(cluster.client.create(JOB, { metadata: key })).rejects.toBe(invalid);
    expect(cluster.writes).toEqual([]);
  });
});
