import { controllerReference, mapToControllerOwner, mapToSelf } from './enqueue.js';
import { InMemoryCluster } from './testing/index.js';
import type { KubernetesObject, ResourceRef } from './types.js';

const cache = new InMemoryCluster().cache;

const trainingJob: ResourceRef = {
  group: 'modelops.dev',
  version: 'v1alpha1',
  plural: 'trainingjobs',
  kind: 'TrainingJob',
  namespaced: true,
};
const node: ResourceRef = { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false };

const job = (ownerReferences: unknown[]): KubernetesObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { namespace: 'ml', name: 'tj-1-train', ownerReferences: ownerReferences as never },
});

describe('owner mapping', () => {
  test('maps a dependent to its controller owner of the reconciled kind, in its namespace', () => {
    const obj = job([
      { apiVersion: 'modelops.dev/v1alpha1', kind: 'TrainingJob', name: 'tj-1', uid: 'u', controller: true },
    ]);
    expect(mapToControllerOwner(trainingJob)(obj, cache)).toEqual([{ namespace: 'ml', name: 'tj-1' }]);
  });

  test('matches the owner by group and kind, whatever its version', () => {
    const obj = job([
      { apiVersion: 'modelops.dev/v1beta1', kind: 'TrainingJob', name: 'tj-1', uid: 'u', controller: true },
    ]);
    expect(mapToControllerOwner(trainingJob)(obj, cache)).toEqual([{ namespace: 'ml', name: 'tj-1' }]);
  });

  test('ignores non-controller owners and owners of other kinds or groups', () => {
    expect(
      mapToControllerOwner(trainingJob)(
        job([{ apiVersion: 'modelops.dev/v1alpha1', kind: 'TrainingJob', name: 'a', uid: 'u' }]),
        cache,
      ),
    ).toEqual([]);
    expect(
      mapToControllerOwner(trainingJob)(
        job([{ apiVersion: 'modelops.dev/v1alpha1', kind: 'ModelVersion', name: 'a', uid: 'u', controller: true }]),
        cache,
      ),
    ).toEqual([]);
    expect(
      mapToControllerOwner(trainingJob)(
        job([{ apiVersion: 'other.dev/v1alpha1', kind: 'TrainingJob', name: 'a', uid: 'u', controller: true }]),
        cache,
      ),
    ).toEqual([]);
    expect(mapToControllerOwner(trainingJob)(job([]), cache)).toEqual([]);
    expect(mapToControllerOwner(trainingJob)({ metadata: { name: 'bare' } }, cache)).toEqual([]);
    expect(mapToControllerOwner(trainingJob)({}, cache)).toEqual([]);
  });

  test('a cluster-scoped owner maps to a key without namespace; core group is ""', () => {
    const pod = {
      metadata: {
        namespace: 'ml',
        name: 'p',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u', controller: true }],
      },
    };
    expect(mapToControllerOwner(node)(pod, cache)).toEqual([{ name: 'n1' }]);
  });

  test('controllerReference: the owner as controller, blocking its deletion until the dependent goes', () => {
    const owner = { metadata: { namespace: 'ml', name: 'tj-1', uid: 'abc' } };
    expect(controllerReference(trainingJob, owner)).toEqual({
      apiVersion: 'modelops.dev/v1alpha1',
      kind: 'TrainingJob',
      name: 'tj-1',
      uid: 'abc',
      controller: true,
      blockOwnerDeletion: true,
    });
  });

  test('self mapping and controllerReference round-trip', () => {
    const owner = { metadata: { namespace: 'ml', name: 'tj-1', uid: 'abc' } };
    expect(mapToSelf(owner, cache)).toEqual([{ namespace: 'ml', name: 'tj-1' }]);
    const dependent = job([controllerReference(trainingJob, owner)]);
    expect(mapToControllerOwner(trainingJob)(dependent, cache)).toEqual([{ namespace: 'ml', name: 'tj-1' }]);
  });

  test.each([
    ['no uid (not yet created)', { metadata: { namespace: 'ml', name: 'tj-1' } }],
    ['no name', { metadata: { namespace: 'ml', uid: 'abc' } }],
    ['no metadata', {}],
  ])('controllerReference refuses an owner with %s', (_case, owner) => {
    expect(() => controllerReference(trainingJob, owner)).toThrow('owner needs metadata.name and metadata.uid');
  });

  test("through the for map: a dependent enqueues its owner's keys (a Deployment → its ModelVersion → the model)", () => {
    const modelVersion: ResourceRef = { ...trainingJob, plural: 'modelversions', kind: 'ModelVersion' };
    const cluster = new InMemoryCluster();
    cluster.seed(modelVersion, {
      metadata: { namespace: 'ml', name: 'fraud-v2', uid: 'mv-uid' },
      spec: { model: 'fraud' },
    });
    const byModel = (mv: KubernetesObject) => [{ namespace: 'ml', name: (mv.spec as { model: string }).model }];
    const map = mapToControllerOwner(modelVersion, byModel);
    const deployment = (uid: string) =>
      job([{ apiVersion: 'modelops.dev/v1alpha1', kind: 'ModelVersion', name: 'fraud-v2', uid, controller: true }]);
    expect(map(deployment('mv-uid'), cluster.cache)).toEqual([{ namespace: 'ml', name: 'fraud' }]);
    // An owner that is gone, or a namesake that is not the owner (another uid), maps to nothing.
    expect(map(deployment('other-uid'), cluster.cache)).toEqual([]);
    expect(
      map(
        job([{ apiVersion: 'modelops.dev/v1alpha1', kind: 'ModelVersion', name: 'gone', uid: 'u', controller: true }]),
        cluster.cache,
      ),
    ).toEqual([]);
    // Before the owners' cache has synced (their initial list enqueues every owner): nothing, and no throw.
    cluster.setAvailable(modelVersion, false);
    expect(map(deployment('mv-uid'), cluster.cache)).toEqual([]);
  });
});
