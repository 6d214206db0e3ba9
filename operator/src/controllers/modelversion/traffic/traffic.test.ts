import { replicaRatioRouter, canaryReplicasFor } from './replica-ratio.js';
import { gatewayApiRouter, rewriteRoute } from './gateway-api.js';
import type { DesiredSplit, ObservedRouting } from './router.js';
import type { HTTPRoute } from './httproute.js';

const split = (canary?: Partial<NonNullable<DesiredSplit['canary']>>, stableReplicas = 2): DesiredSplit => ({
  model: 'fraud',
  namespace: 'ml',
  stable: { name: 'fraud-v1', version: 'v1', replicas: stableReplicas },
  ...(canary ? { canary: { name: 'fraud-v2', version: 'v2', weight: 0, sizeFor: 0, replicas: 2, ...canary } } : {}),
  versionNames: ['fraud-v1', 'fraud-v2', 'fraud-v0'],
});
const none: ObservedRouting = { stableReadyReplicas: 0, canaryReadyReplicas: 0 };
const ONLY_STABLE = { 'modelops.dev/modelversion': 'fraud-v1' };
const ONLY_CANARY = { 'modelops.dev/modelversion': 'fraud-v2' };
const WHOLE_MODEL = { 'app.kubernetes.io/name': 'modelops-serving', 'modelops.dev/model': 'fraud' };

describe('replica ratio', () => {
  test.each([
    // weight, stable replicas, canary's own replicas → canary replicas
    [5, 2, 2, 1],
    [25, 2, 2, 1],
    [50, 2, 2, 2],
    [75, 2, 2, 6],
    [5, 10, 3, 1],
    [25, 10, 3, 3],
    [50, 10, 3, 10],
    [100, 10, 3, 3],
    [99, 10, 3, 100],
    [30, 0, 4, 4],
  ])('%i %% next to %i stable pods (canary spec %i) → %i canary pods', (weight, stable, own, expected) => {
    expect(canaryReplicasFor(weight, stable, own)).toBe(expected);
  });

  test.each([
    ['no canary: the stable alone', undefined, ONLY_STABLE, 0],
    ['canary starting (0 %, sized for 5 %): still the stable alone', { weight: 0, sizeFor: 5 }, ONLY_STABLE, 1],
    ['canary at 25 %: every version of the model', { weight: 25, sizeFor: 25 }, WHOLE_MODEL, 1],
    ['canary at 100 %: the canary alone', { weight: 100, sizeFor: 100 }, ONLY_CANARY, 2],
  ])('%s', (_case, canary, selector, canaryReplicas) => {
    const plan = replicaRatioRouter.desired(split(canary), none);
    expect(plan.modelService.metadata).toMatchObject({ name: 'fraud', namespace: 'ml' });
    expect(plan.modelService.spec!.selector).toEqual(selector);
    expect(plan.modelService.spec!.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(plan.canaryReplicas).toBe(canaryReplicas);
    expect(plan.route).toBeUndefined();
  });

  test('the actual split is the share of ready pods under the Service as it is now', () => {
    const s = split({ weight: 5, sizeFor: 5 });
    const service = (selector: Record<string, string>) => ({ spec: { selector } });
    const actual = (observed: ObservedRouting) => replicaRatioRouter.actualCanaryWeight(s, observed);
    expect(actual(none)).toBeUndefined();
    expect(actual({ modelService: service(ONLY_STABLE), stableReadyReplicas: 2, canaryReadyReplicas: 1 })).toBe(0);
    expect(actual({ modelService: service(WHOLE_MODEL), stableReadyReplicas: 2, canaryReadyReplicas: 1 })).toBeCloseTo(
      33.33,
      2,
    );
    expect(actual({ modelService: service(ONLY_CANARY), stableReadyReplicas: 2, canaryReadyReplicas: 1 })).toBe(100);
  });
});

describe('Gateway API', () => {
  const owned = gatewayApiRouter({ parentRefs: [{ name: 'inference' }], hostnames: ['fraud.example.com'] });

  test('an owned route: parentRefs, hostnames, weighted backends; the model Service stays on the stable', () => {
    const plan = owned.desired(split({ weight: 25, sizeFor: 25 }), none);
    expect(plan.modelService.spec!.selector).toEqual(ONLY_STABLE);
    expect(plan.canaryReplicas).toBe(2);
    expect(plan.route).toEqual({
      owned: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: {
          name: 'fraud',
          namespace: 'ml',
          labels: {
            'app.kubernetes.io/name': 'modelops-serving',
            'app.kubernetes.io/managed-by': 'modelops',
            'modelops.dev/model': 'fraud',
          },
        },
        spec: {
          parentRefs: [{ name: 'inference' }],
          hostnames: ['fraud.example.com'],
          rules: [
            {
              backendRefs: [
                { name: 'fraud-v1', port: 80, weight: 75 },
                { name: 'fraud-v2', port: 80, weight: 25 },
              ],
            },
          ],
        },
      },
    });
  });

  test.each([
    ['no canary', undefined, [{ name: 'fraud-v1', port: 80, weight: 100 }]],
    ['canary starting at 0 %: not listed', { weight: 0 }, [{ name: 'fraud-v1', port: 80, weight: 100 }]],
    ['canary at 100 %: alone', { weight: 100 }, [{ name: 'fraud-v2', port: 80, weight: 100 }]],
  ])('backends: %s', (_case, canary, backendRefs) => {
    const route = owned.desired(split(canary), none).route as { owned: HTTPRoute };
    expect(route.owned.spec.rules).toEqual([{ backendRefs }]);
  });

  test('an experiment by header: a rule matching the header sends those requests to the canary alone', () => {
    const route = owned.desired(split({ weight: 0, header: { name: 'x-model-version', value: 'v2' } }), none).route as {
      owned: HTTPRoute;
    };
    expect(route.owned.spec.rules).toEqual([
      {
        matches: [{ headers: [{ type: 'Exact', name: 'x-model-version', value: 'v2' }] }],
        backendRefs: [{ name: 'fraud-v2', port: 80, weight: 1 }],
      },
      { backendRefs: [{ name: 'fraud-v1', port: 80, weight: 100 }] },
    ]);
  });

  const existing: HTTPRoute = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'public', namespace: 'ml', resourceVersion: '7' },
    spec: {
      parentRefs: [{ name: 'edge', namespace: 'infra' }],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/docs' } }], backendRefs: [{ name: 'docs', port: 80 }] },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/v2/models/fraud' } }],
          filters: [{ type: 'RequestHeaderModifier' }],
          backendRefs: [{ name: 'fraud', port: 80 }],
        },
        // A version Service of the model from an earlier rollout is the model's too.
        {
          matches: [{ path: { type: 'PathPrefix', value: '/fraud' } }],
          backendRefs: [{ name: 'fraud-v0', port: 80, weight: 1 }],
        },
        // Same name in another namespace: not ours.
        { backendRefs: [{ name: 'fraud', namespace: 'other', port: 80 }] },
      ],
    },
  };

  test('an existing route: only the rules pointing at the model’s Services get new backends, all else is kept', () => {
    const rewritten = rewriteRoute(existing, split({ weight: 50 }));
    const weighted = [
      { name: 'fraud-v1', port: 80, weight: 50 },
      { name: 'fraud-v2', port: 80, weight: 50 },
    ];
    expect(rewritten.metadata).toEqual(existing.metadata);
    expect(rewritten.spec.parentRefs).toEqual(existing.spec.parentRefs);
    expect(rewritten.spec.rules).toEqual([
      existing.spec.rules![0],
      { ...existing.spec.rules![1], backendRefs: weighted },
      { ...existing.spec.rules![2], backendRefs: weighted },
      existing.spec.rules![3],
    ]);
    const router = gatewayApiRouter({ httpRoute: 'public' });
    expect(router.desired(split({ weight: 50 }), { ...none, route: existing }).route).toEqual({ existing: rewritten });
    expect(router.desired(split({ weight: 50 }), none).route).toBeUndefined();
  });

  test('the actual split is read from the route as it is now', () => {
    const s = split({ weight: 25 });
    expect(owned.actualCanaryWeight(s, none)).toBeUndefined();
    const route = (owned.desired(s, none).route as { owned: HTTPRoute }).owned;
    expect(owned.actualCanaryWeight(s, { ...none, route })).toBe(25);
    expect(owned.actualCanaryWeight(s, { ...none, route: existing })).toBe(0);
    expect(owned.actualCanaryWeight(split(), { ...none, route })).toBe(0);
  });
});
