import { replicaRatioRouter, canaryReplicasFor } from './replica-ratio.js';
import { gatewayApiRouter, rewriteRoute } from './gateway-api.js';
import type { DesiredSplit, ObservedRouting } from './router.js';
import { HTTP_ROUTE, type BackendRef, type HTTPRoute } from './httproute.js';

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

describe('a step is in place only once the cluster makes the split', () => {
  const service = (selector: Record<string, string>) => ({ spec: { selector } });

  test.each([
    ['the Service on the stable alone, no canary', undefined, ONLY_STABLE, 0, true],
    ['no Service yet', undefined, undefined, 0, false],
    ['25 %: the whole model selected, the one canary pod ready', { weight: 25, sizeFor: 25 }, WHOLE_MODEL, 1, true],
    ['25 %: the whole model selected, the canary pod not ready', { weight: 25, sizeFor: 25 }, WHOLE_MODEL, 0, false],
    ['25 %: the Service still on the stable alone', { weight: 25, sizeFor: 25 }, ONLY_STABLE, 1, false],
    ['75 %: 6 canary pods wanted, 5 ready', { weight: 75, sizeFor: 75 }, WHOLE_MODEL, 5, false],
    ['75 %: 6 canary pods wanted, 7 ready', { weight: 75, sizeFor: 75 }, WHOLE_MODEL, 7, true],
  ])('replica ratio: %s → %s', (_case, canary, selector, canaryReady, expected) => {
    const observed = {
      ...(selector ? { modelService: service(selector) } : {}),
      stableReadyReplicas: 2,
      canaryReadyReplicas: canaryReady,
    };
    expect(replicaRatioRouter.inPlace(split(canary), observed)).toBe(expected);
  });

  test('replica ratio: no stable version yet, the canary alone takes everything', () => {
    const s: DesiredSplit = { ...split({ weight: 0, sizeFor: 0 }), stable: undefined };
    expect(replicaRatioRouter.desired(s, none).modelService.spec!.selector).toEqual(ONLY_CANARY);
    expect(replicaRatioRouter.desired(s, none).canaryReplicas).toBe(2);
  });

  test('replica ratio: a model Service without a spec selects nothing yet', () => {
    const s = split({ weight: 25, sizeFor: 25 });
    const observed = { modelService: {}, stableReadyReplicas: 2, canaryReadyReplicas: 1 };
    expect(replicaRatioRouter.inPlace(s, observed)).toBe(false);
    expect(replicaRatioRouter.actualCanaryWeight(s, observed)).toBeUndefined();
    const plan = replicaRatioRouter.desired(s, none);
    expect([plan.modelService.apiVersion, plan.modelService.kind]).toEqual(['v1', 'Service']);
  });

  test('replica ratio: the actual split with nothing ready under a whole-model Service is unknown', () => {
    const s = split({ weight: 25, sizeFor: 25 });
    const observed = { modelService: service(WHOLE_MODEL), stableReadyReplicas: 0, canaryReadyReplicas: 0 };
    expect(replicaRatioRouter.actualCanaryWeight(s, observed)).toBeUndefined();
    expect(replicaRatioRouter.actualCanaryWeight(split(), { ...observed, modelService: service(ONLY_STABLE) })).toBe(0);
  });

  const gateway = gatewayApiRouter({ parentRefs: [{ name: 'inference' }] });
  const routed = (s: DesiredSplit) => (gateway.desired(s, none).route as { owned: HTTPRoute }).owned;

  test.each([
    ['the route at 25 %, the Service on the stable, the canary ready', 25, 25, ONLY_STABLE, 2, true],
    ['the route still at 5 %', 25, 5, ONLY_STABLE, 2, false],
    ['the model Service moved to the whole model', 25, 25, WHOLE_MODEL, 2, false],
    ['one canary pod of two ready', 25, 25, ONLY_STABLE, 1, false],
    ['three canary pods ready (of two)', 25, 25, ONLY_STABLE, 3, true],
  ])('Gateway API: %s → %s', (_case, weight, routeWeight, selector, canaryReady, expected) => {
    const observed = {
      route: routed(split({ weight: routeWeight })),
      modelService: service(selector),
      stableReadyReplicas: 2,
      canaryReadyReplicas: canaryReady,
    };
    expect(gateway.inPlace(split({ weight }), observed)).toBe(expected);
  });

  test('Gateway API: no route, no step', () => {
    expect(gateway.inPlace(split(), { ...none, modelService: service(ONLY_STABLE) })).toBe(false);
    const route = routed(split());
    expect(gateway.inPlace(split(), { ...none, route, modelService: service(ONLY_STABLE) })).toBe(true);
    expect(gateway.desired(split(), none).canaryReplicas).toBe(0);
  });

  test('Gateway API: an experiment is in place only with its header rule, as the API server keeps it', () => {
    const header = { name: 'x-model-version', value: 'v2' };
    const s = split({ weight: 0, header });
    const route = routed(s);
    const observed = { route, modelService: service(ONLY_STABLE), stableReadyReplicas: 2, canaryReadyReplicas: 2 };
    expect(gateway.inPlace(s, observed)).toBe(true);
    // The API server adds a path match and the backend's group and kind: still the same rule.
    const defaulted: HTTPRoute = {
      ...route,
      spec: {
        ...route.spec,
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', ...header }] }],
            backendRefs: [{ group: '', kind: 'Service', name: 'fraud-v2', port: 80, weight: 1 }],
          },
          route.spec.rules![1]!,
        ],
      },
    };
    expect(gateway.inPlace(s, { ...observed, route: defaulted })).toBe(true);
    // Matches are alternatives: a rule whose second match is the header still sends those requests to the canary.
    const orPath: HTTPRoute = {
      ...route,
      spec: {
        ...route.spec,
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/docs' } }, { headers: [{ type: 'Exact', ...header }] }],
            backendRefs: [{ name: 'fraud-v2', port: 80, weight: 1 }],
          },
          route.spec.rules![1]!,
        ],
      },
    };
    expect(gateway.inPlace(s, { ...observed, route: orPath })).toBe(true);
    // A match without a header condition, or a header rule that sends nowhere, is not the experiment.
    const ruleWith = (rule: NonNullable<HTTPRoute['spec']['rules']>[number]): HTTPRoute => ({
      ...route,
      spec: { ...route.spec, rules: [route.spec.rules![1]!, rule] },
    });
    expect(
      gateway.inPlace(s, {
        ...observed,
        route: ruleWith({ matches: [{ headers: [] }], backendRefs: [{ name: 'fraud-v2', port: 80, weight: 1 }] }),
      }),
    ).toBe(false);
    expect(
      gateway.inPlace(s, { ...observed, route: ruleWith({ matches: [{ headers: [{ type: 'Exact', ...header }] }] }) }),
    ).toBe(false);
    const withoutRule = { ...route, spec: { ...route.spec, rules: [route.spec.rules![1]!] } };
    expect(gateway.inPlace(s, { ...observed, route: withoutRule })).toBe(false);
    const otherValue = split({ weight: 0, header: { ...header, value: 'v3' } });
    expect(gateway.inPlace(otherValue, observed)).toBe(false);
    const otherName = split({ weight: 0, header: { ...header, name: 'x-other' } });
    expect(gateway.inPlace(otherName, observed)).toBe(false);
    const toStable = {
      ...route,
      spec: {
        ...route.spec,
        rules: [{ ...route.spec.rules![0]!, backendRefs: [{ name: 'fraud-v1', port: 80 }] }, route.spec.rules![1]!],
      },
    };
    expect(gateway.inPlace(s, { ...observed, route: toStable })).toBe(false);
  });

  test('Gateway API: the header rule does not count towards the default split', () => {
    const s = split({ weight: 0, header: { name: 'x-model-version', value: 'v2' } });
    expect(gateway.actualCanaryWeight(s, { ...none, route: routed(s) })).toBe(0);
  });

  test('Gateway API: no stable version yet, the canary takes every request on the route', () => {
    const s: DesiredSplit = { ...split({ weight: 0 }), stable: undefined };
    const route = routed(s);
    expect(route.spec.rules).toEqual([{ backendRefs: [{ name: 'fraud-v2', port: 80, weight: 100 }] }]);
    expect(gateway.desired(s, none).modelService.spec!.selector).toEqual(ONLY_CANARY);
    const observed = { route, modelService: service(ONLY_CANARY), stableReadyReplicas: 0, canaryReadyReplicas: 2 };
    expect(gateway.inPlace(s, observed)).toBe(true);
  });

  test('Gateway API: unweighted backends count one each; a backend of another kind or namespace is not a Service of the model', () => {
    const s = split({ weight: 25 });
    const route = (backendRefs: BackendRef[]) => ({
      ...routed(s),
      spec: { parentRefs: [{ name: 'inference' }], rules: [{ backendRefs }] },
    });
    expect(gateway.actualCanaryWeight(s, { ...none, route: route([{ name: 'fraud-v1' }, { name: 'fraud-v2' }]) })).toBe(
      50,
    );
    expect(
      gateway.actualCanaryWeight(s, {
        ...none,
        route: route([
          { name: 'fraud-v1', weight: 1 },
          { name: 'fraud-v2', weight: 3 },
          { name: 'fraud-v2', group: 'x.io', kind: 'Backend', weight: 100 },
        ]),
      }),
    ).toBe(75);
    expect(
      gateway.actualCanaryWeight(s, {
        ...none,
        route: route([
          { name: 'fraud-v1', weight: 0 },
          { name: 'fraud-v2', weight: 0 },
        ]),
      }),
    ).toBe(0);
    expect(
      gateway.actualCanaryWeight(s, {
        ...none,
        route: route([{ name: 'fraud-v2', kind: 'Service', group: '', weight: 1 }]),
      }),
    ).toBe(100);
  });

  test('Gateway API: a route with no rule for the model gives no split, and no step is in place', () => {
    const s = split({ weight: 25 });
    const docsOnly: HTTPRoute = {
      ...routed(s),
      spec: { parentRefs: [{ name: 'edge' }], rules: [{ backendRefs: [{ name: 'docs', port: 80 }] }] },
    };
    expect(gateway.actualCanaryWeight(s, { ...none, route: docsOnly })).toBeUndefined();
    const observed = {
      route: docsOnly,
      modelService: service(ONLY_STABLE),
      stableReadyReplicas: 2,
      canaryReadyReplicas: 2,
    };
    expect(gateway.inPlace(s, observed)).toBe(false);
  });

  test('Gateway API: no model Service (or one without a spec) yet: the step is not in place', () => {
    const s = split({ weight: 25 });
    const observed = { route: routed(s), stableReadyReplicas: 2, canaryReadyReplicas: 2 };
    expect(gateway.inPlace(s, { ...observed, modelService: service(ONLY_STABLE) })).toBe(true);
    expect(gateway.inPlace(s, observed)).toBe(false);
    expect(gateway.inPlace(s, { ...observed, modelService: {} })).toBe(false);
  });

  test('Gateway API: a backend is a Service of the model only with no group, kind Service and no namespace', () => {
    const s = split({ weight: 25 });
    const weightOf = (canaryRef: BackendRef) =>
      gateway.actualCanaryWeight(s, {
        ...none,
        route: {
          ...routed(s),
          spec: {
            parentRefs: [{ name: 'edge' }],
            rules: [{ backendRefs: [{ name: 'fraud-v1', weight: 1 }, canaryRef] }],
          },
        },
      });
    expect(weightOf({ name: 'fraud-v2', weight: 1, group: '', kind: 'Service' })).toBe(50);
    expect(weightOf({ name: 'fraud-v2', weight: 1, group: '', kind: 'ServiceImport' })).toBe(0);
    expect(weightOf({ name: 'fraud-v2', weight: 1, group: 'multicluster.x-k8s.io', kind: 'Service' })).toBe(0);
    expect(weightOf({ name: 'fraud-v2', weight: 1, namespace: 'ml' })).toBe(0);
  });

  test('Gateway API: an existing route without rules stays without rules', () => {
    const bare: HTTPRoute = { ...routed(split()), spec: { parentRefs: [{ name: 'edge' }] } };
    expect(rewriteRoute(bare, split({ weight: 50 })).spec).toEqual({ parentRefs: [{ name: 'edge' }], rules: [] });
  });

  test("Gateway API: a rule that sends to one of the model's Services among others is the model's rule", () => {
    const mixed: HTTPRoute = {
      ...routed(split()),
      spec: {
        parentRefs: [{ name: 'edge' }],
        rules: [
          {
            backendRefs: [
              { name: 'docs', port: 80 },
              { name: 'fraud', port: 80 },
            ],
          },
        ],
      },
    };
    expect(rewriteRoute(mixed, split({ weight: 50 })).spec.rules).toEqual([
      {
        backendRefs: [
          { name: 'fraud-v1', port: 80, weight: 50 },
          { name: 'fraud-v2', port: 80, weight: 50 },
        ],
      },
    ]);
  });

  test('Gateway API: an owned route without hostnames has none', () => {
    const router = gatewayApiRouter({ parentRefs: [{ name: 'inference' }], hostnames: [] });
    expect((router.desired(split(), none).route as { owned: HTTPRoute }).owned.spec).not.toHaveProperty('hostnames');
  });
});

test('HTTPRoutes are addressed as the Gateway API serves them: gateway.networking.k8s.io/v1 httproutes, namespaced', () => {
  expect(HTTP_ROUTE).toEqual({
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'httproutes',
    kind: 'HTTPRoute',
    namespaced: true,
  });
});
