import { apiVersionOf, keyFromString, keyToString, objectKeyOf, resourceId, resourceName } from './types.js';

const JOBS = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };
const PODS = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };

test('a resource as the API and people name it', () => {
  expect([apiVersionOf(JOBS), apiVersionOf(PODS)]).toEqual(['batch/v1', 'v1']);
  expect([resourceName(JOBS), resourceName(PODS)]).toEqual(['jobs.batch/v1', 'pods/v1']);
  expect([resourceId(JOBS), resourceId(PODS)]).toEqual(['batch/v1/jobs', '/v1/pods']);
});

test('keys: "namespace/name", or the name alone for cluster-scoped objects, both ways', () => {
  expect(objectKeyOf({ metadata: { namespace: 'ml', name: 'j' } })).toEqual({ namespace: 'ml', name: 'j' });
  expect(objectKeyOf({ metadata: { name: 'node-1' } })).toEqual({ name: 'node-1' });
  expect(() => objectKeyOf({ metadata: { namespace: 'ml' } })).toThrow('object has no metadata.name');
  expect(() => objectKeyOf({})).toThrow('object has no metadata.name');
  for (const key of [{ namespace: 'ml', name: 'j' }, { name: 'node-1' }])
    expect(keyFromString(keyToString(key))).toEqual(key);
  expect(keyToString({ namespace: 'ml', name: 'j' })).toBe('ml/j');
  expect(keyFromString('node-1')).toEqual({ name: 'node-1' });
});
