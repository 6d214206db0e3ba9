// The status a Gateway API implementation writes on HTTPRoutes attached to its Gateway, for the bed's
// imitation gateway (GatewayClass `testbed`, Gateway gateway/testbed): Accepted, and ResolvedRefs when every
// backendRef is a Service of the route's namespace that exists. Routing itself is the load driver's
// (test/harness/gateway.ts). Pure functions here; routeStatusController() watches and writes.
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesListObject,
  type V1Service,
} from '@kubernetes/client-node';

export const CONTROLLER_NAME = 'modelops.dev/testbed-gateway';
export const GATEWAY = { namespace: 'gateway', name: 'testbed', listener: 'http' } as const;

interface ParentRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

interface ParentStatus {
  parentRef: ParentRef;
  controllerName: string;
  conditions: Condition[];
}

export interface Route {
  metadata: { namespace?: string; name?: string; generation?: number };
  spec?: {
    parentRefs?: ParentRef[];
    rules?: { backendRefs?: { group?: string; kind?: string; name: string; namespace?: string }[] }[];
  };
  status?: { parents?: ParentStatus[] };
}

/** The route's status.parents with this controller's entries as they should be; undefined when unchanged. */
export function desiredParents(route: Route, serviceExists: (name: string) => boolean, now: string) {
  const namespace = route.metadata.namespace ?? 'default';
  const generation = route.metadata.generation ?? 0;
  const ours = (route.spec?.parentRefs ?? []).filter(
    (ref) =>
      (ref.group ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io' &&
      (ref.kind ?? 'Gateway') === 'Gateway' &&
      (ref.namespace ?? namespace) === GATEWAY.namespace &&
      ref.name === GATEWAY.name,
  );
  const previous = route.status?.parents ?? [];
  const others = previous.filter((p) => p.controllerName !== CONTROLLER_NAME);
  const resolved = resolvedRefs(route, namespace, serviceExists);
  const entries = ours.map((parentRef): ParentStatus => {
    const listenerOk = parentRef.sectionName === undefined || parentRef.sectionName === GATEWAY.listener;
    const before = previous.find((p) => p.controllerName === CONTROLLER_NAME && sameRef(p.parentRef, parentRef));
    const condition = (type: string, ok: boolean, reason: string, message: string): Condition => {
      const status = ok ? 'True' : 'False';
      const old = before?.conditions.find((c) => c.type === type);
      const since = old?.status === status ? old.lastTransitionTime : now;
      return { type, status, reason, message, observedGeneration: generation, lastTransitionTime: since };
    };
    return {
      parentRef,
      controllerName: CONTROLLER_NAME,
      conditions: [
        listenerOk
          ? condition(
              'Accepted',
              true,
              'Accepted',
              'attached to the test bed gateway (routing imitated by the harness)',
            )
          : condition('Accepted', false, 'NoMatchingParent', `the Gateway has no listener "${parentRef.sectionName}"`),
        condition('ResolvedRefs', resolved.ok, resolved.reason, resolved.message),
      ],
    };
  });
  const parents = [...others, ...entries];
  return canonical(parents) === canonical(previous) ? undefined : parents;
}

/** JSON with sorted keys: the API server returns objects' keys in its own order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function resolvedRefs(route: Route, namespace: string, serviceExists: (name: string) => boolean) {
  for (const ref of (route.spec?.rules ?? []).flatMap((r) => r.backendRefs ?? [])) {
    if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service')
      return { ok: false, reason: 'InvalidKind', message: `backendRef ${ref.name}: only Services are supported` };
    if ((ref.namespace ?? namespace) !== namespace)
      return { ok: false, reason: 'RefNotPermitted', message: `backendRef ${ref.name}: another namespace` };
    if (!serviceExists(ref.name))
      return { ok: false, reason: 'BackendNotFound', message: `Service "${ref.name}" not found` };
  }
  return { ok: true, reason: 'ResolvedRefs', message: 'every backendRef is a Service that exists' };
}

function sameRef(a: ParentRef, b: ParentRef): boolean {
  return a.name === b.name && a.namespace === b.namespace && a.sectionName === b.sectionName;
}

/** Watches HTTPRoutes and Services; writes a route's status when what it should say changed. */
export async function routeStatusController(kubeConfig: KubeConfig, log: (m: string, f?: object) => void) {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const group = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };
  const routes = makeInformer<Route & { metadata: object }>(
    kubeConfig,
    '/apis/gateway.networking.k8s.io/v1/httproutes',
    () => custom.listClusterCustomObject(group) as Promise<KubernetesListObject<Route & { metadata: object }>>,
  );
  const services = makeInformer<V1Service>(kubeConfig, '/api/v1/services', () => core.listServiceForAllNamespaces());

  const sync = async (route: Route) => {
    const namespace = route.metadata.namespace!;
    const parents = desiredParents(route, (name) => !!services.get(name, namespace), new Date().toISOString());
    if (!parents) return;
    await custom
      .patchNamespacedCustomObjectStatus(
        { ...group, namespace, name: route.metadata.name!, body: { status: { parents } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .catch((err: unknown) => log('route status write failed', { route: route.metadata.name, err: String(err) }));
  };
  const resyncNamespace = (service: V1Service) => {
    for (const route of routes.list(service.metadata?.namespace)) void sync(route);
  };
  routes.on('add', (r) => void sync(r));
  routes.on('update', (r) => void sync(r));
  for (const verb of ['add', 'delete'] as const) services.on(verb, resyncNamespace);
  for (const informer of [routes, services] as const)
    informer.on('error', (err: unknown) => {
      log('watch failed; restarting it', { err: String(err) });
      setTimeout(() => void informer.start(), 1000);
    });
  await services.start();
  await routes.start();
  return { stop: () => Promise.all([routes.stop(), services.stop()]) };
}
