import { controllerReference, mapToControllerOwner, mapToSelf } from './enqueue.js';
import type { KubernetesObject, ResourceRef } from './types.js';

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
    expect(mapToControllerOwner(trainingJob)(obj)).toEqual([{ namespace: 'ml', name: 'tj-1' }]);
  });

  test('matches the owner by group and kind, whatever its version', () => {
    const obj = job([
      { apiVersion: 'modelops.dev/v1beta1', kind: 'TrainingJob', name: 'tj-1', uid: 'u', controller: true },
    ]);
    expect(mapToControllerOwner(trainingJob)(obj)).toEqual([{ namespace: 'ml', name: 'tj-1' }]);
  });

  test('ignores non-controller owners and owners of other kinds or groups', () => {
    expect(
      mapToControllerOwner(trainingJob)(
        job([{ apiVersion: 'modelops.dev/v1alpha1', kind: 'TrainingJob', name: 'a', uid: 'u' }]),
      ),
    ).toEqual([]);
    expect(
      mapToControllerOwner(trainingJob)(
        job([{ apiVersion: 'modelops.dev/v1alpha1', kind: 'ModelVersion', name: 'a', uid: 'u', controller: true }]),
      ),
    ).toEqual([]);
    expect(
      mapToControllerOwner(trainingJob)(
        job([{ apiVersion: 'other.dev/v1alpha1', kind: 'TrainingJob', name: 'a', uid: 'u', controller: true }]),
      ),
    ).toEqual([]);
    expect(mapToControllerOwner(trainingJob)(job([]))).toEqual([]);
    expect(mapToControllerOwner(trainingJob)({ metadata: { name: 'bare' } })).toEqual([]);
  });

  test('a cluster-scoped owner maps to a key without namespace; core group is ""', () => {
    const pod = {
      metadata: {
        namespace: 'ml',
        name: 'p',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u', controller: true }],
      },
    };
    expect(mapToControllerOwner(node)(pod)).toEqual([{ name: 'n1' }]);
  });

  test('self mapping and controllerReference round-trip', () => {
    const owner = { metadata: { namespace: 'ml', name: 'tj-1', uid: 'abc' } };
    expect(mapToSelf()(owner)).toEqual([{ namespace: 'ml', name: 'tj-1' }]);
    const dependent = job([controllerReference(trainingJob, owner)]);
    expect(mapToControllerOwner(trainingJob)(dependent)).toEqual([{ namespace: 'ml', name: 'tj-1' }]);
  });
});
