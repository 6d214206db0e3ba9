import type { Client } from '../client.js';
import type { KubernetesObject, ResourceRef } from '../types.js';
import type { InformerCache } from './cache.js';
import { ReadYourWritesClient } from './read-your-writes.js';

const JOBS: ResourceRef = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };
const key = { namespace: 'ml', name: 'j' };
const job = (rv?: string): KubernetesObject => ({ metadata: { ...key, ...(rv ? { resourceVersion: rv } : {}) } });

function setup() {
  const recorded: string[] = [];
  const cache = {
    recordWrite: (_ref: ResourceRef, obj: KubernetesObject, basedOn: string | undefined) =>
      recorded.push(`${obj.metadata?.resourceVersion} based on ${basedOn}`),
  } as unknown as InformerCache;
  // The API server's answer: the object at its next resourceVersion.
  const answer = async () => job('9');
  const inner = {
    create: answer,
    update: answer,
    updateStatus: answer,
    patch: answer,
    apply: answer,
    applyStatus: answer,
    delete: async () => undefined,
    get: async () => job('3'),
    list: async () => ({ metadata: { resourceVersion: '4' }, items: [job('3')] }),
  } as unknown as Client;
  return { client: new ReadYourWritesClient(inner, cache), recorded };
}

test('creates, and updates conditioned on a resourceVersion, hand their result to the cache', async () => {
  const { client, recorded } = setup();
  await client.create(JOBS, job());
  await client.update(JOBS, job('5'));
  await client.updateStatus(JOBS, job('6'));
  await client.patch(JOBS, key, { metadata: { resourceVersion: '7' }, spec: { suspend: true } });
  expect(recorded).toEqual(['9 based on undefined', '9 based on 5', '9 based on 6', '9 based on 7']);
});

test('writes not conditioned on a resourceVersion are left to the watch: nothing says the result is the newest', async () => {
  const { client, recorded } = setup();
  await client.update(JOBS, job());
  await client.patch(JOBS, key, { spec: { suspend: true } });
  await client.patch(JOBS, key, [{ op: 'test', path: '/metadata/resourceVersion', value: '7' }], 'json');
  await client.apply(JOBS, job());
  await client.applyStatus(JOBS, job());
  await client.delete(JOBS, key);
  expect(recorded).toEqual([]);
});

test('reads go to the API server as they are, and record nothing', async () => {
  const { client, recorded } = setup();
  expect(await client.get(JOBS, key)).toEqual(job('3'));
  expect(await client.list(JOBS, { namespace: 'ml' })).toEqual({
    metadata: { resourceVersion: '4' },
    items: [job('3')],
  });
  expect(recorded).toEqual([]);
});
