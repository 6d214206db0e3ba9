import type { V1Deployment, V1DeploymentCondition } from '@kubernetes/client-node';
import { deploymentView } from './view.js';

function deployment(role: string | undefined, readyReplicas?: number, conditions?: V1DeploymentCondition[]) {
  const env = [{ name: 'MODEL_NAME', value: 'fraud' }, ...(role ? [{ name: 'MODEL_ROLE', value: role }] : [])];
  return {
    spec: { selector: {}, template: { spec: { containers: [{ name: 'server', env }] } } },
    status: { readyReplicas, conditions },
  } satisfies V1Deployment;
}

const progressing = (status: string, reason: string, message?: string): V1DeploymentCondition => ({
  type: 'Progressing',
  status,
  reason,
  message,
});

describe('deploymentView: what a version needs from its Deployment', () => {
  test('no Deployment yet', () => {
    expect(deploymentView(undefined)).toBeUndefined();
  });

  test.each([
    ['a stable one, 2 pods ready', deployment('stable', 2), { readyReplicas: 2, createdAsRole: 'stable' }],
    ['a canary one', deployment('canary', 1), { readyReplicas: 1, createdAsRole: 'canary' }],
    ['no ready count yet reads as 0', deployment('canary'), { readyReplicas: 0, createdAsRole: 'canary' }],
    ['an unknown role is no role', deployment('shadow', 1), { readyReplicas: 1 }],
    ['no MODEL_ROLE', deployment(undefined, 1), { readyReplicas: 1 }],
    [
      'the pods it asks for (an HPA sets them)',
      { ...deployment('stable', 5), spec: { ...deployment('stable').spec, replicas: 6 } },
      { readyReplicas: 5, replicas: 6, createdAsRole: 'stable' },
    ],
    ['no status, no pod spec', { spec: { selector: {}, template: {} } }, { readyReplicas: 0 }],
    ['no containers', { spec: { selector: {}, template: { spec: { containers: [] } } } }, { readyReplicas: 0 }],
    [
      'a container without env',
      { spec: { selector: {}, template: { spec: { containers: [{ name: 's' }] } } } },
      { readyReplicas: 0 },
    ],
    ['no spec', {}, { readyReplicas: 0 }],
    // Shapes the API server never returns (it requires them), which the type allows.
    ['no template', { spec: { selector: {} } } as V1Deployment, { readyReplicas: 0 }],
    [
      'a pod spec without containers',
      { spec: { selector: {}, template: { spec: {} } } } as V1Deployment,
      { readyReplicas: 0 },
    ],
  ])('%s', (_case, d, expected) => {
    expect(deploymentView(d)).toStrictEqual(expected);
  });

  test.each([
    [
      'past its progress deadline: failed, with the controller-manager’s words',
      [progressing('False', 'ProgressDeadlineExceeded', 'ReplicaSet "fraud-v2-abc" has timed out progressing.')],
      'ReplicaSet "fraud-v2-abc" has timed out progressing.',
    ],
    [
      'past its deadline without a message',
      [progressing('False', 'ProgressDeadlineExceeded')],
      'the Deployment exceeded its progress deadline',
    ],
    [
      'the condition found among others',
      [
        { type: 'Available', status: 'False', reason: 'ProgressDeadlineExceeded' },
        progressing('False', 'ProgressDeadlineExceeded', 'timed out'),
      ],
      'timed out',
    ],
    ['still progressing', [progressing('True', 'ReplicaSetUpdated')], undefined],
    ['progressing False for another reason', [progressing('False', 'ReplicaSetCreateError', 'quota')], undefined],
    [
      'the deadline reason on another condition only',
      [{ type: 'Available', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      undefined,
    ],
  ])('%s', (_case, conditions, failed) => {
    expect(deploymentView(deployment('canary', 0, conditions))?.failed).toBe(failed);
  });
});
