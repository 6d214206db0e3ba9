import type { Client } from '../client.js';
import type { KubernetesObject, ResourceRef } from '../types.js';
import type { InformerCache } from './cache.js';
import { ReadYourWritesClient } from './read-your-writes.js';

const JOBS: ResourceRef = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };
const key = { namespace: 'ml', name: 'j' };
const job = (rv?: string): KubernetesObject => ({ metadata: { ...key, ...(rv ? { resourceVersion: rv } : {}) } });

function setup({ answer = async (): Promise<KubernetesObject | undefined> => job('9') } = {}) {
  const recorded: string[] = [];
  /** What reached the API server, in order. */
  const sent: string[] = [];
  const cache = {
    recordWrite: (_ref: ResourceRef, obj: KubernetesObject, basedOn: string | undefined) =>
      recorded.push(`${obj.metadata?.resourceVersion} based on ${basedOn}`),
  } as unknown as InformerCache;
  // The API server's answer (by default the object at its next resourceVersion), each write noted in `sent`.
  const write = (verb: string) => async () => (sent.push(verb), answer());
  const inner = {
    create: write('create'),
    update: write('update'),
    updateStatus: write('updateStatus'),
    patch: write('patch'),
    apply: write('apply'),
    applyStatus: write('applyStatus'),
    delete: async () => void sent.push('delete'),
    get: async () => job('3'),
    list: async () => ({ metadata: { resourceVersion: '4' }, items: [job('3')] }),
  } as unknown as Client;
  return { client: new ReadYourWritesClient(inner, cache), recorded, sent };
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
  const { client, recorded, sent } = setup();
  const answers = [
    await client.update(JOBS, job()),
    await client.patch(JOBS, key, { spec: { suspend: true } }),
    await client.patch(JOBS, key, null), // no metadata at all: the API server's to refuse, not ours
    await client.patch(JOBS, key, [{ op: 'test', path: '/metadata/resourceVersion', value: '7' }], 'json'),
    await client.apply(JOBS, job()),
    await client.applyStatus(JOBS, job()),
  ];
  await client.delete(JOBS, key);
  expect(recorded).toEqual([]);
  // ...but each still goes to the API server, and its answer comes back as it is.
  expect(sent).toEqual(['update', 'patch', 'patch', 'patch', 'apply', 'applyStatus', 'delete']);
  expect(answers).toEqual(Array(6).fill(job('9')));
});

test('an answer without an object (an empty body) is returned as it is, and nothing is recorded', async () => {
  const { client, recorded } = setup({ answer: async () => undefined });
  expect(await client.create(JOBS, job())).toBeUndefined();
  expect(await client.update(JOBS, job('5'))).toBeUndefined();
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
