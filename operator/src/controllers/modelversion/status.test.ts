import type { V1Service } from '@kubernetes/client-node';
import type { ModelVersionSpec, ModelVersionStatus } from '../../api/index.js';
import { modelVersion } from './fixtures.test-helpers.js';
import { LABEL_MODELVERSION } from './names.js';
import type { Draft, ModelPlan } from './rollout.js';
import { versionStatus } from './status.js';
import { gatewayApiRouter } from './traffic/gateway-api.js';
import { replicaRatioRouter } from './traffic/replica-ratio.js';
import type { DesiredSplit, TrafficRouter } from './traffic/router.js';
import type { ModelView } from './view.js';

const VIEW: ModelView = {
  namespace: 'ml',
  model: 'fraud',
  now: new Date(0),
  versions: [],
  routes: {},
  gatewayApiAvailable: true,
};

/** fraud-v2 as the state machine leaves it; `status` is what it had before the pass. */
function draft(
  d: Partial<Draft> = {},
  { ready, status, spec }: { ready?: number; status?: ModelVersionStatus; spec?: Partial<ModelVersionSpec> } = {},
): Draft {
  return {
    view: {
      mv: modelVersion('fraud-v2', spec, status),
      ...(ready !== undefined ? { deployment: { readyReplicas: ready } } : {}),
    },
    phase: 'Serving',
    role: 'stable',
    weight: 100,
    replicas: 2,
    autoscaler: false,
    createdAsRole: 'stable',
    rollout: {},
    handled: {},
    pending: {},
    events: [],
    ...d,
  };
}

const NO_ROUTING: ModelPlan = { drafts: [], deleteOwnedRoute: false, deleting: [] };
const condition = (d: Draft, type: string) =>
  versionStatus(d, NO_ROUTING, VIEW).conditions!.find((c) => c.type === type);

describe('Ready: whether the version serves, in words a user reads', () => {
  test.each<[string, Partial<Draft>, number | undefined, [string, string, string]]>([
    ['stable with pods', {}, 2, ['True', 'Serving', 'serving 100 % of fraud as the stable version (2/2 pods ready)']],
    [
      'stable without a ready pod',
      {},
      0,
      ['False', 'NoReadyPods', 'the stable version has no ready pod (0/2 pods ready)'],
    ],
    [
      'stable, no Deployment seen yet',
      {},
      undefined,
      ['False', 'NoReadyPods', 'the stable version has no ready pod (0/2 pods ready)'],
    ],
    [
      'stable, autoscaled',
      { replicas: 'autoscaled' },
      3,
      ['True', 'Serving', 'serving 100 % of fraud as the stable version (3/autoscaled pods ready)'],
    ],
    [
      'a canary with traffic',
      { phase: 'Canary', role: 'canary', weight: 5, replicas: 1 },
      1,
      ['True', 'Canary', 'serving 5 % of fraud as the canary (1/1 pods ready)'],
    ],
    [
      'a paused canary at its step',
      { phase: 'Paused', role: 'canary', weight: 20, replicas: 1 },
      1,
      ['True', 'Paused', 'serving 20 % of fraud as the canary (1/1 pods ready)'],
    ],
    [
      'an experiment at 0 % weight whose step is reached (header traffic only)',
      {
        phase: 'Experiment',
        role: 'canary',
        weight: 0,
        replicas: 1,
        rollout: { stepReachedAt: '2026-01-01T00:00:00Z' },
      },
      1,
      ['True', 'Experiment', 'serving 0 % of fraud as the canary (1/1 pods ready)'],
    ],
    [
      'a canary at 0 % before its step is reached',
      { phase: 'Canary', role: 'canary', weight: 0, replicas: 1 },
      1,
      ['False', 'Canary', '1/1 pods ready'],
    ],
    [
      'a canary with traffic but no ready pod says why it is not progressing',
      {
        phase: 'Canary',
        role: 'canary',
        weight: 5,
        replicas: 1,
        progressing: { type: 'Progressing', status: 'True', reason: 'WaitingForPods', message: 'waiting for 1 pod' },
      },
      0,
      ['False', 'WaitingForPods', 'waiting for 1 pod'],
    ],
    [
      'deploying',
      { phase: 'Deploying', role: 'none', weight: 0 },
      1,
      ['False', 'Deploying', 'waiting for pods: 1/2 pods ready'],
    ],
    [
      'rolled back',
      { phase: 'RolledBack', role: 'none', weight: 0 },
      1,
      ['False', 'RolledBack', 'rolled back: no traffic (modelops.dev/retry starts it again)'],
    ],
    [
      'superseded by a named version',
      { phase: 'Superseded', role: 'none', weight: 0, rollout: { replacedBy: 'fraud-v3' } },
      1,
      ['False', 'Superseded', 'superseded by fraud-v3: no traffic'],
    ],
    [
      'superseded, the successor not recorded',
      { phase: 'Superseded', role: 'none', weight: 0 },
      1,
      ['False', 'Superseded', 'superseded by a newer version: no traffic'],
    ],
    [
      'retired',
      { phase: 'Retired', role: 'none', weight: 0, rollout: { replacedBy: 'fraud-v3' } },
      2,
      ['False', 'Retired', 'replaced as stable by fraud-v3: no traffic'],
    ],
    [
      'failed, with the reason that degraded it',
      { phase: 'Failed', role: 'none', weight: 0, degraded: { reason: 'ImagePullBackOff', message: 'no such image' } },
      0,
      ['False', 'ImagePullBackOff', 'no such image'],
    ],
    [
      'failed, no reason known',
      { phase: 'Failed', role: 'none', weight: 0 },
      0,
      ['False', 'Failed', 'cannot be served'],
    ],
    [
      'pending',
      { phase: 'Pending', role: 'none', weight: 0 },
      undefined,
      ['False', 'Pending', 'waiting for the model’s other versions to be decided'],
    ],
  ])('%s', (_case, d, ready, [status, reason, message]) => {
    expect(condition(draft(d, { ready }), 'Ready')).toStrictEqual({ type: 'Ready', status, reason, message });
  });
});

describe('Progressing', () => {
  test.each<[Partial<Draft>, [string, string, string]]>([
    [{ phase: 'Serving' }, ['False', 'Stable', 'serving as the stable version']],
    [{ phase: 'Deploying' }, ['True', 'Deploying', 'starting its pods']],
    [{ phase: 'RolledBack' }, ['False', 'RolledBack', 'rolled back']],
    [{ phase: 'Pending' }, ['False', 'Pending', 'not started']],
    [{ phase: 'Superseded' }, ['False', 'Superseded', 'superseded']],
    [{ phase: 'Failed' }, ['False', 'Failed', 'failed']],
  ])('%o', (d, [status, reason, message]) => {
    expect(condition(draft(d), 'Progressing')).toStrictEqual({ type: 'Progressing', status, reason, message });
  });

  test("a canary's own condition, set by the state machine, wins over the phase's", () => {
    const own = { type: 'Progressing', status: 'True' as const, reason: 'StepPaused', message: 'paused at 20 %' };
    expect(condition(draft({ phase: 'Serving', progressing: own }), 'Progressing')).toBe(own);
  });
});

describe('Promoted and RolledBack keep the words of the transition that set them', () => {
  const promoted = { type: 'Promoted', status: 'True', reason: 'AnalysisPassed', message: 'all 3 steps passed' };
  const rolledBack = { type: 'RolledBack', status: 'True', reason: 'AnalysisFailed', message: 'p99 latency 420 ms' };
  const retriedBefore = {
    type: 'RolledBack',
    status: 'False',
    reason: 'Retried',
    message: 'retried by modelops.dev/retry',
  };
  const before = (...conditions: object[]) =>
    ({
      conditions: conditions.map((c) => ({ lastTransitionTime: '2026-01-01T00:00:00Z', ...c })),
    }) as ModelVersionStatus;
  const PROMOTED_AT = { promotedAt: '2026-01-01T00:00:00Z' };

  test.each<[string, Partial<Draft>, ModelVersionStatus | undefined, [string, string, string]]>([
    [
      'promoted this pass',
      { promoted: { reason: 'Manual', message: 'promoted by modelops.dev/promote' } },
      undefined,
      ['True', 'Manual', 'promoted by modelops.dev/promote'],
    ],
    [
      'promoted before: its words kept',
      { rollout: PROMOTED_AT },
      before(promoted),
      ['True', 'AnalysisPassed', 'all 3 steps passed'],
    ],
    [
      'promoted, the earlier condition lost (a status without conditions)',
      { rollout: PROMOTED_AT },
      { phase: 'Serving' },
      ['True', 'Promoted', 'became the stable version'],
    ],
    [
      'promoted, the earlier condition not True',
      { rollout: PROMOTED_AT },
      before({ ...promoted, status: 'False' }),
      ['True', 'Promoted', 'became the stable version'],
    ],
    [
      'a True condition without promotedAt is not kept',
      { phase: 'Canary' },
      before(promoted),
      ['False', 'Canary', 'not promoted'],
    ],
  ])('Promoted: %s', (_case, d, status, [s, reason, message]) => {
    expect(condition(draft(d, { status }), 'Promoted')).toStrictEqual({ type: 'Promoted', status: s, reason, message });
  });

  test.each<[string, Partial<Draft>, ModelVersionStatus | undefined, [string, string, string]]>([
    [
      'rolled back this pass',
      { phase: 'RolledBack', rolledBack: { reason: 'Aborted', message: 'aborted' } },
      undefined,
      ['True', 'Aborted', 'aborted'],
    ],
    [
      'rolled back before: its words kept',
      { phase: 'RolledBack' },
      before(rolledBack),
      ['True', 'AnalysisFailed', 'p99 latency 420 ms'],
    ],
    [
      'an earlier False condition keeps its words',
      { phase: 'RolledBack' },
      before({ ...rolledBack, status: 'False', reason: 'NotRolledBack', message: 'x' }),
      ['False', 'NotRolledBack', 'x'],
    ],
    [
      'retried this pass',
      { phase: 'Pending', retried: true },
      before(rolledBack),
      ['False', 'Retried', 'retried by modelops.dev/retry'],
    ],
    [
      'retried earlier: the words stay',
      { phase: 'Canary' },
      before(retriedBefore),
      ['False', 'Retried', 'retried by modelops.dev/retry'],
    ],
    [
      'a True condition of a version no longer rolled back is not kept',
      { phase: 'Canary' },
      before(rolledBack),
      ['False', 'NotRolledBack', 'not rolled back'],
    ],
    ['never rolled back', {}, undefined, ['False', 'NotRolledBack', 'not rolled back']],
  ])('RolledBack: %s', (_case, d, status, [s, reason, message]) => {
    expect(condition(draft(d, { status }), 'RolledBack')).toStrictEqual({
      type: 'RolledBack',
      status: s,
      reason,
      message,
    });
  });

  test('Degraded says what holds the version back, or that nothing does', () => {
    const degraded = { reason: 'ProgressDeadlineExceeded', message: 'timed out' };
    expect(condition(draft({ degraded }), 'Degraded')).toStrictEqual({ type: 'Degraded', status: 'True', ...degraded });
    expect(condition(draft(), 'Degraded')).toStrictEqual({
      type: 'Degraded',
      status: 'False',
      reason: 'AsExpected',
      message: 'nothing holds it back',
    });
  });
});

describe('the rest of the status', () => {
  test('a stable version: generation, phase, role, weight, pods, url; empty records left out', () => {
    const status = versionStatus(draft({}, { ready: 1 }), NO_ROUTING, VIEW);
    expect({ ...status, conditions: undefined }).toStrictEqual({
      observedGeneration: 1,
      phase: 'Serving',
      role: 'stable',
      weight: 100,
      replicas: 2,
      readyReplicas: 1,
      url: 'http://fraud.ml.svc/v2/models/fraud',
      traffic: undefined,
      rollout: undefined,
      analysis: undefined,
      worstCaseDetectionSeconds: undefined,
      handledActions: undefined,
      conditions: undefined,
    });
    expect(status.conditions!.map((c) => c.type)).toEqual([
      'Ready',
      'Progressing',
      'Promoted',
      'RolledBack',
      'Degraded',
    ]);
  });

  test('an autoscaled canary: no replica count, its detection time, its rollout and handled actions', () => {
    const d = draft({
      phase: 'Canary',
      role: 'canary',
      replicas: 'autoscaled',
      worstCaseDetectionSeconds: 90,
      rollout: { step: 1 },
      handled: { promote: '1' },
    });
    expect(versionStatus(d, NO_ROUTING, VIEW)).toMatchObject({
      replicas: undefined,
      readyReplicas: 0,
      worstCaseDetectionSeconds: 90,
      rollout: { step: 1 },
      handledActions: { promote: '1' },
    });
    expect(versionStatus({ ...d, role: 'none' }, NO_ROUTING, VIEW).worstCaseDetectionSeconds).toBeUndefined();
  });
});

describe("traffic: the model's split, on its stable version and its canary", () => {
  const split: DesiredSplit = {
    model: 'fraud',
    namespace: 'ml',
    stable: { name: 'fraud-v1', version: 'v1', replicas: 2 },
    canary: { name: 'fraud-v2', version: 'v2', weight: 30, sizeFor: 30, replicas: 1 },
    versionNames: ['fraud-v1', 'fraud-v2'],
  };
  const service = (selector: Record<string, string>): V1Service => ({ spec: { selector } });
  const plan = (router: TrafficRouter, s: DesiredSplit, canaryReadyReplicas = 1): ModelPlan => ({
    ...NO_ROUTING,
    routing: {
      router,
      split: s,
      observed: { modelService: service({ model: 'fraud' }), stableReadyReplicas: 2, canaryReadyReplicas },
    },
  });
  const traffic = (p: ModelPlan, d: Partial<Draft> = {}, spec?: Partial<ModelVersionSpec>) =>
    versionStatus(draft({ phase: 'Canary', role: 'canary', weight: 30, ...d }, { spec }), p, VIEW).traffic;

  test('stable and canary weights, and what the pods actually take (rounded to 2 decimals)', () => {
    expect(traffic(plan(replicaRatioRouter, split))).toStrictEqual({
      mechanism: 'ReplicaRatio',
      stable: { name: 'fraud-v1', version: 'v1', weight: 70 },
      canary: { name: 'fraud-v2', version: 'v2', weight: 30 },
      actualCanaryWeight: 33.33,
    });
  });

  test('the stable version reports the same split; a stable alone takes everything', () => {
    expect(traffic(plan(replicaRatioRouter, split), { role: 'stable' })).toMatchObject({ stable: { weight: 70 } });
    const alone = plan(replicaRatioRouter, { ...split, canary: undefined });
    alone.routing!.observed.modelService = service({ [LABEL_MODELVERSION]: 'fraud-v1' });
    expect(traffic(alone, { role: 'stable' })).toStrictEqual({
      mechanism: 'ReplicaRatio',
      stable: { name: 'fraud-v1', version: 'v1', weight: 100 },
      actualCanaryWeight: 0,
    });
  });

  test('before any version was ready: a canary, no stable; nothing measured yet', () => {
    const noService = plan(replicaRatioRouter, { ...split, stable: undefined }, 0);
    noService.routing!.observed.modelService = undefined;
    expect(traffic(noService)).toStrictEqual({
      mechanism: 'ReplicaRatio',
      canary: { name: 'fraud-v2', version: 'v2', weight: 30 },
    });
  });

  test('a version out of the split, or a model without routing, reports none', () => {
    expect(traffic(plan(replicaRatioRouter, split), { role: 'none' })).toBeUndefined();
    expect(traffic(NO_ROUTING)).toBeUndefined();
  });

  test('Gateway API: the route it writes, its own or the one the spec names', () => {
    const gateway = { parentRefs: [{ name: 'gw' }] };
    const router = gatewayApiRouter(gateway);
    expect(traffic(plan(router, split), {}, { serving: { traffic: { gatewayAPI: gateway } } })).toMatchObject({
      mechanism: 'GatewayAPI',
      route: 'fraud',
    });
    const named = { ...gateway, httpRoute: 'shared' };
    expect(traffic(plan(router, split), {}, { serving: { traffic: { gatewayAPI: named } } })).toMatchObject({
      route: 'shared',
    });
    expect(
      traffic(plan(replicaRatioRouter, split), {}, { serving: { traffic: { gatewayAPI: gateway } } }),
    ).not.toHaveProperty('route');
  });
});
