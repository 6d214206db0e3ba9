// The bed's data plane, part 2: traffic splits as users would get them — by replica ratio through
// kube-proxy, and by an HTTPRoute's weights through the load driver's imitation of a gateway.
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { objectApi, useNamespace, waitFor, type Condition } from '../harness/cluster.js';
import { waitForKubeProxyEndpoints } from '../harness/dataplane.js';
import { loadReference, referenceRows } from '../harness/inputs.js';
import { percentages, runLoad, startLoad, type LoadOptions } from '../harness/load.js';
import {
  FIXTURE_REFERENCE,
  deploymentReady,
  httpRoute,
  servingDeployment,
  servingService,
  useModelClaim,
} from '../harness/serving.js';

const ns = useNamespace('traffic');
useModelClaim(ns, 'models', ['fraud/v1', 'fraud/v2']);
const reference = loadReference(FIXTURE_REFERENCE);
const requests = 2000;

function load(target: LoadOptions['target'], extra: Partial<LoadOptions> = {}): LoadOptions {
  return {
    target,
    model: 'fraud',
    inputName: reference.input.name,
    rows: referenceRows(reference),
    concurrency: 8,
    ...extra,
  };
}

beforeAll(async () => {
  const deployment = (version: string, replicas: number, role: 'stable' | 'canary') =>
    servingDeployment({
      namespace: ns.name,
      model: 'fraud',
      version,
      replicas,
      role,
      claim: 'models',
      modelPath: `fraud/${version}/model.onnx`,
    });
  await objectApi().create(deployment('v1', 4, 'stable'));
  await objectApi().create(deployment('v2', 1, 'canary'));
  // One Service over both versions (the replica-ratio canary), and one per version (for an HTTPRoute).
  await objectApi().create(servingService(ns.name, 'fraud', { 'modelops.dev/model': 'fraud' }));
  await objectApi().create(servingService(ns.name, 'fraud-stable', { 'modelops.dev/version': 'v1' }));
  await objectApi().create(servingService(ns.name, 'fraud-canary', { 'modelops.dev/version': 'v2' }));
  await deploymentReady(ns.name, 'fraud-v1', 4);
  await deploymentReady(ns.name, 'fraud-v2', 1);
}, 240_000);

test(`Deployments of 4 and 1 replicas behind one Service get 80/20 ± 5 points of ${requests} requests through kube-proxy`, async () => {
  await waitForKubeProxyEndpoints(ns.name, 'fraud', 5);
  const report = await runLoad({ ...load({ service: 'fraud', namespace: ns.name }), requests });
  expect(report.byCode).toEqual({ 200: requests });
  const split = percentages(report.byVersion);
  expect(split.v1).toBeGreaterThanOrEqual(75);
  expect(split.v1).toBeLessThanOrEqual(85);
  expect(split.v2).toBeCloseTo(100 - split.v1!, 5);
}, 300_000);

test(`an HTTPRoute with weights 80/20 splits ${requests} requests 80/20 ± 5 points through the driver`, async () => {
  await waitForKubeProxyEndpoints(ns.name, 'fraud-stable', 4);
  await waitForKubeProxyEndpoints(ns.name, 'fraud-canary', 1);
  await objectApi().create(httpRoute(ns.name, 'fraud', [{ backends: { 'fraud-stable': 80, 'fraud-canary': 20 } }]));
  const report = await runLoad({ ...load({ httpRoute: 'fraud', namespace: ns.name }), requests });
  expect(report.byCode).toEqual({ 200: requests });
  // What users got (the versions that answered) is what the route chose (the Services it sent to).
  expect(report.byVersion).toEqual({
    v1: report.byBackend['fraud-stable']!.requests,
    v2: report.byBackend['fraud-canary']!.requests,
  });
  const split = percentages(report.byVersion);
  expect(split.v1).toBeGreaterThanOrEqual(75);
  expect(split.v1).toBeLessThanOrEqual(85);
}, 300_000);

test('the driver follows the route as it changes: new weights, then a header match for the canary', async () => {
  await objectApi().create(httpRoute(ns.name, 'live', [{ backends: { 'fraud-stable': 80, 'fraud-canary': 20 } }]));
  const run = startLoad({ ...load({ httpRoute: 'live', namespace: ns.name }), ratePerSecond: 40 });
  let generation!: number;
  try {
    await run.completed(100);
    const patched = await objectApi().patch<KubernetesObject>(
      httpRoute(ns.name, 'live', [
        { backends: { 'fraud-stable': 100, 'fraud-canary': 0 } },
        { headers: { 'x-canary': 'always' }, backends: { 'fraud-canary': 1 } },
      ]),
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
    generation = patched.metadata!.generation!;
    await run.routeGeneration(generation);
    // Requests go on under the new generation for a while (those in flight at the change finish first).
    await run.completed(run.report().requests + 100);
  } finally {
    await run.stop();
  }
  const { byRouteGeneration } = run.report();
  expect(byRouteGeneration[generation]!.requests).toBeGreaterThanOrEqual(50);
  expect(byRouteGeneration[generation]!.byVersion).toEqual({ v1: byRouteGeneration[generation]!.requests });
  expect(byRouteGeneration[generation - 1]!.byVersion.v2).toBeGreaterThan(0);

  const canaryOnly = await runLoad({
    ...load({ httpRoute: 'live', namespace: ns.name }, { headers: { 'x-canary': 'always' } }),
    requests: 50,
  });
  expect(canaryOnly.byVersion).toEqual({ v2: 50 });
}, 300_000);

test("the bed's gateway writes an attached HTTPRoute's status: Accepted, and ResolvedRefs once its Services exist", async () => {
  type Route = { status?: { parents?: { controllerName: string; conditions: Condition[] }[] } };
  const routes = `/apis/gateway.networking.k8s.io/v1/namespaces/${ns.name}/httproutes`;
  const ours = (r: Route) => r.status?.parents?.find((p) => p.controllerName === 'modelops.dev/testbed-gateway');
  const conditionOf = (r: Route, type: string) => ours(r)?.conditions.find((c) => c.type === type);
  await objectApi().create(httpRoute(ns.name, 'pending', [{ backends: { 'fraud-stable': 90, 'fraud-next': 10 } }]));
  const pending = await waitFor<Route>(routes, (r) => !!conditionOf(r, 'ResolvedRefs'), 'route status', {
    fieldSelector: 'metadata.name=pending',
  });
  expect(conditionOf(pending, 'Accepted')).toMatchObject({ status: 'True', observedGeneration: 1 });
  expect(conditionOf(pending, 'ResolvedRefs')).toMatchObject({
    status: 'False',
    reason: 'BackendNotFound',
    message: 'Service "fraud-next" not found',
  });
  await objectApi().create(servingService(ns.name, 'fraud-next', { 'modelops.dev/version': 'v2' }));
  await waitFor<Route>(routes, (r) => conditionOf(r, 'ResolvedRefs')?.status === 'True', 'ResolvedRefs True', {
    fieldSelector: 'metadata.name=pending',
  });
});
