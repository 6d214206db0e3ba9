// The ModelVersion reconciler, thin: one key per model; read every version of it and what they own
// from the cache, run the analysis that is due, let rollout.ts decide, write each version's status
// once, then the objects that enact the decision, then Events. See README.md in this folder.
import type { V1Deployment, V1Service, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { MODEL_INDEX, modelVersionsByModel, resources, type ModelVersion } from '../../api/index.js';
import type { ControllerSettings } from '../../config.js';
import { HttpPrometheusClient, PrometheusError, type PrometheusClient } from '../../prometheus/index.js';
import { jensenShannon, psi } from '../../statistics/index.js';
import {
  isNotFound,
  type ControllerOptions,
  type KubernetesObject,
  type ObjectKey,
  type ReconcileContext,
  type ReconcileResult,
  type ResourceRef,
} from '../../runtime/index.js';
import { DEPLOYMENT, HPA, SERVICE } from '../resources.js';
import { analyse, type Distances } from './analysis/checks.js';
import { measure } from './analysis/measure.js';
import { satisfies } from './apply.js';
import { FINALIZER, LABEL_MANAGED_BY, LABEL_MODEL, MANAGED_BY, modelServiceName, routeName } from './names.js';
import {
  analysisDue,
  decideModel,
  type AnalysisOutcome,
  type AnalysisRequest,
  type Draft,
  type ModelPlan,
} from './rollout.js';
import { buildAutoscaler, buildDeployment, buildVersionService } from './serving.js';
import { versionStatus } from './status.js';
import { HTTP_ROUTE, type HTTPRoute } from './traffic/httproute.js';
import { deploymentView, type ModelView, type VersionView } from './view.js';

const MV = resources.ModelVersion;

export interface ModelVersionDeps {
  /** A Prometheus client per URL; the HTTP client by default. */
  prometheus?: (url: string) => PrometheusClient;
  /** PSI and JS for the prediction-shift check (operator/src/statistics, contract C5). */
  distances?: Distances;
}

const modelKey = (mv: KubernetesObject): ObjectKey[] => {
  const model = (mv as ModelVersion).spec?.model;
  return model && mv.metadata?.namespace ? [{ namespace: mv.metadata.namespace, name: model }] : [];
};

/** The model's own Service and route carry the model's label and no owner: map them by the label. */
const byModelLabel = (obj: KubernetesObject): ObjectKey[] => {
  const labels = obj.metadata?.labels ?? {};
  const model = labels[LABEL_MODEL];
  return model && labels[LABEL_MANAGED_BY] === MANAGED_BY && !obj.metadata?.ownerReferences?.length
    ? [{ namespace: obj.metadata!.namespace!, name: model }]
    : [];
};

export function modelVersionController(settings: ControllerSettings, deps: ModelVersionDeps = {}): ControllerOptions {
  // The HTTP client holds no connection or state of its own (fetch pools connections): one per analysis.
  const prometheus = deps.prometheus ?? ((url: string) => new HttpPrometheusClient({ url }));
  const distances = deps.distances ?? { psi, jensenShannon };
  return {
    name: 'modelversion',
    for: { resource: MV, map: modelKey },
    owns: [DEPLOYMENT, SERVICE, HPA],
    watches: [
      { resource: SERVICE, map: byModelLabel },
      {
        resource: HTTP_ROUTE,
        optional: true,
        // An existing route named by a ModelVersion's spec maps to that version's model (until the versions'
        // cache has synced, its initial list enqueues every model anyway).
        map: (route, cache) => [
          ...byModelLabel(route),
          ...(cache.isAvailable(MV) ? cache.list<ModelVersion>(MV, { namespace: route.metadata!.namespace! }) : [])
            .filter((mv) => mv.spec.serving?.traffic?.gatewayAPI?.httpRoute === route.metadata!.name)
            .flatMap(modelKey),
        ],
      },
    ],
    indexes: [modelVersionsByModel],
    reconcile: (ctx, key) => reconcileModel(ctx, key, { settings, prometheus, distances }),
  };
}

interface Env {
  settings: ControllerSettings;
  prometheus: (url: string) => PrometheusClient;
  distances: Distances;
}

export async function reconcileModel(ctx: ReconcileContext, key: ObjectKey, env: Env): Promise<ReconcileResult> {
  const namespace = key.namespace!;
  const listed = ctx.cache.list<ModelVersion>(MV, { namespace, index: { name: MODEL_INDEX, value: key.name } });
  const view = gather(ctx, namespace, key.name, listed, env.settings);

  // Pods take longest to come, so a pass that finds a version without its Deployment writes only that: a burst of
  // new versions has every Deployment written before any status or Service (a Service costs the API server a
  // ClusterIP allocation, seconds under a burst), and the API server takes half the writes while it lasts. The
  // Deployment's watch event brings the model back, queued behind the other keys' first passes, for the rest: the
  // statuses, the finalizer (no traffic can reach the version before it), the Services, and an analysis that is due
  // (its outcome would only be dropped here: nothing this pass writes records it).
  const unanalysed = decideModel(view, undefined);
  const starting = unanalysed.drafts.filter((d) => !blocked(d) && !deploymentOf(ctx, d.view.mv));
  if (starting.length) {
    await Promise.all(starting.map((d) => ensure(ctx, DEPLOYMENT, desiredDeployment(d, env.settings), undefined)));
    return requeue(unanalysed);
  }

  const due = analysisDue(view);
  const outcome = due ? await runAnalysis(ctx, due, env) : undefined;
  const plan = decideModel(view, outcome);
  // Every version holds the finalizer before the routing below can send it traffic, until its traffic has moved.
  const versions = await Promise.all(listed.map((mv) => ctx.finalizers.add(MV, mv, FINALIZER)));
  // Decisions before the objects that enact them: a crash after this is repaired by the next pass from what the
  // statuses say.
  const changed = await writeStatuses(ctx, view, plan, versions);
  await enact(ctx, view, plan, env.settings);

  for (const d of changed)
    for (const e of d.events) {
      ctx.log.info({ modelversion: d.view.mv.metadata.name, reason: e.reason }, e.message);
      await ctx.recorder.event(d.view.mv, e.type, e.reason, e.message);
    }
  if (outcome) ctx.log.debug({ canary: due!.target.canary, outcome }, 'analysed');
  return requeue(plan);
}

const requeue = (plan: ModelPlan): ReconcileResult =>
  plan.requeueAfterMs ? { requeueAfterMs: plan.requeueAfterMs } : undefined;

/** Each version's status, the stable version's first, on `versions` as last written; the drafts whose status changed. */
async function writeStatuses(ctx: ReconcileContext, view: ModelView, plan: ModelPlan, versions: ModelVersion[]) {
  const byUid = new Map(versions.map((mv) => [mv.metadata.uid, mv]));
  const changed = new Set<Draft>();
  const isStable = (d: Draft) => d.role === 'stable';
  for (const d of [...plan.drafts.filter(isStable), ...plan.drafts.filter((d) => !isStable(d))])
    if (await ctx.status.update(MV, byUid.get(d.view.mv.metadata.uid)!, versionStatus(d, plan, view))) changed.add(d);
  return changed;
}

/** The cache's view of the model: versions, their Deployments, the model's Service and routes. */
function gather(
  ctx: ReconcileContext,
  namespace: string,
  model: string,
  versions: ModelVersion[],
  settings: ControllerSettings,
): ModelView {
  const gatewayApiAvailable = ctx.cache.isAvailable(HTTP_ROUTE);
  const routeNames = new Set([
    routeName(model),
    ...versions.flatMap((mv) => mv.spec.serving?.traffic?.gatewayAPI?.httpRoute ?? []),
  ]);
  const routes = gatewayApiAvailable
    ? Object.fromEntries(
        [...routeNames]
          .map((name) => ctx.cache.get<HTTPRoute>(HTTP_ROUTE, { namespace, name }))
          .filter((r): r is HTTPRoute => r !== undefined)
          .map((r) => [r.metadata.name, r]),
      )
    : {};
  const modelService = ctx.cache.get<V1Service & KubernetesObject>(SERVICE, {
    namespace,
    name: modelServiceName(model),
  });
  const ours = modelService && byModelLabel(modelService).some((k) => k.name === model);
  return {
    namespace,
    model,
    now: ctx.now(),
    versions: versions.map((mv) => versionView(ctx, mv)),
    ...(modelService && ours ? { modelService } : {}),
    ...(modelService && !ours
      ? {
          modelServiceConflict: `Service ${modelServiceName(model)} exists and was not made by modelops for this model`,
        }
      : {}),
    routes,
    gatewayApiAvailable,
    ...(settings.prometheusUrl ? { defaultPrometheusUrl: settings.prometheusUrl } : {}),
  };
}

function versionView(ctx: ReconcileContext, mv: ModelVersion): VersionView {
  const key = { namespace: mv.metadata.namespace, name: mv.metadata.name };
  const deployment = ctx.cache.get<V1Deployment & KubernetesObject>(DEPLOYMENT, key);
  const service = ctx.cache.get<V1Service & KubernetesObject>(SERVICE, key);
  const foreign = [
    ['Deployment', deployment],
    ['Service', service],
  ].find(([, obj]) => obj && !ownedBy(obj as KubernetesObject, mv));
  return {
    mv,
    ...(deployment && ownedBy(deployment, mv) ? { deployment: deploymentView(deployment)! } : {}),
    ...(foreign ? { conflict: `${foreign[0]} ${mv.metadata.name} exists and is not owned by this ModelVersion` } : {}),
  };
}

const ownedBy = (obj: KubernetesObject, mv: ModelVersion) =>
  obj.metadata?.ownerReferences?.some((o) => o.uid === mv.metadata.uid && o.controller) ?? false;

async function runAnalysis(ctx: ReconcileContext, due: AnalysisRequest, env: Env): Promise<AnalysisOutcome> {
  if (!due.prometheusUrl)
    return {
      kind: 'unavailable',
      reason: 'NoMetricsSource',
      message:
        'no Prometheus to analyse the canary with: start the operator with --prometheus-url or set spec.serving.rollout.analysis.prometheusUrl',
    };
  try {
    const m = await measure(env.prometheus(due.prometheusUrl), due.target, due.spec, ctx.signal);
    return { kind: 'measured', result: analyse(m, due.spec, env.distances) };
  } catch (err) {
    // The reconcile being cancelled is not Prometheus's fault: let the runtime handle it.
    if (err instanceof PrometheusError && err.kind !== 'aborted')
      return { kind: 'unavailable', reason: 'MetricsUnavailable', message: err.message };
    throw err;
  }
}

/** The model's Service and route, or their removal when no version is left. */
async function applyRouting(ctx: ReconcileContext, view: ModelView, plan: ModelPlan): Promise<void> {
  const ownedRoute = view.routes[routeName(view.model)];
  if (!plan.routing) {
    if (view.modelService) await remove(ctx, SERVICE, view.namespace, modelServiceName(view.model));
    if (ownedRoute && byModelLabel(ownedRoute).length)
      await remove(ctx, HTTP_ROUTE, view.namespace, routeName(view.model));
    return;
  }
  const { router, split, observed } = plan.routing;
  const desired = router.desired(split, observed);
  // Traffic first: the route (where the split is) before the Service.
  if (desired.route && 'owned' in desired.route) await ensure(ctx, HTTP_ROUTE, desired.route.owned, ownedRoute);
  if (desired.route && 'existing' in desired.route) {
    const current = observed.route!;
    // Someone else's route: an update conditioned on its resourceVersion, only the rules changed.
    if (!satisfies(current.spec.rules, desired.route.existing.spec.rules))
      await ctx.client.update(HTTP_ROUTE, desired.route.existing);
  }
  if (plan.deleteOwnedRoute) await remove(ctx, HTTP_ROUTE, view.namespace, routeName(view.model));
  if (!view.modelServiceConflict) await ensure(ctx, SERVICE, desired.modelService, view.modelService);
}

/** The objects that enact the plan, and the deleted versions' finalizers once their traffic has moved. */
async function enact(ctx: ReconcileContext, view: ModelView, plan: ModelPlan, settings: ControllerSettings) {
  // Capacity before traffic: versions that gain pods (or their Service) are written before the routing moves
  // traffic — a canary's step, a rollback to the stable, a new version —, and so are those that take no traffic
  // now (a retired version's pods go before a replica ratio's selector of every version's pods reaches them).
  // The rest, those losing pods that serve now, after it.
  const first = plan.drafts.filter((d) => grows(ctx, d) || !d.view.mv.status?.weight);
  for (const d of first) await applyVersion(ctx, d, settings);
  await applyRouting(ctx, view, plan);
  for (const d of plan.drafts.filter((d) => !first.includes(d))) await applyVersion(ctx, d, settings);
  for (const { view: v, until } of plan.deleting) {
    // Its traffic went elsewhere above; its pods drain until `until` (recorded so a restart keeps it).
    if (Date.parse(until) > ctx.now().getTime()) {
      await ctx.status.update(MV, v.mv, { rollout: { ...v.mv.status?.rollout, drainUntil: until } });
      continue;
    }
    await ctx.finalizers.remove(MV, v.mv, FINALIZER);
  }
}

/** A version without its names (someone else's Deployment or Service; it fails NameConflict): nothing of it is written. */
const blocked = (d: Draft) => d.view.conflict !== undefined;

const deploymentOf = (ctx: ReconcileContext, mv: ModelVersion) =>
  ctx.cache.get<V1Deployment & KubernetesObject>(DEPLOYMENT, {
    namespace: mv.metadata.namespace,
    name: mv.metadata.name,
  });

const desiredDeployment = (d: Draft, settings: ControllerSettings) =>
  buildDeployment(d.view.mv, {
    defaultImage: settings.servingImage,
    replicas: d.replicas,
    createdAsRole: d.createdAsRole,
  });

/**
 * Whether the plan gives a version what must be there before traffic moves: pods it does not have yet (a new
 * Deployment, more replicas) or its Service (an HTTPRoute's backend).
 */
function grows(ctx: ReconcileContext, d: Draft): boolean {
  const { namespace, name } = d.view.mv.metadata;
  const current = deploymentOf(ctx, d.view.mv);
  return (
    !current ||
    (typeof d.replicas === 'number' && d.replicas > (current.spec?.replicas ?? 0)) ||
    !ctx.cache.get(SERVICE, { namespace, name })
  );
}

/** The version's Deployment, Service and HPA as the plan sizes them. */
async function applyVersion(ctx: ReconcileContext, d: Draft, settings: ControllerSettings): Promise<void> {
  if (blocked(d)) return;
  const mv = d.view.mv;
  const key = { namespace: mv.metadata.namespace, name: mv.metadata.name };
  const hpa = d.autoscaler ? buildAutoscaler(mv) : undefined;
  const observedHpa = ctx.cache.get<V2HorizontalPodAutoscaler & KubernetesObject>(HPA, key);
  // Independent objects, written at once: under a burst the API server took seconds per Service (its
  // ClusterIP), and a reconcile waiting for each in turn held its worker while hundreds of keys queued.
  await Promise.all([
    ensure(ctx, DEPLOYMENT, desiredDeployment(d, settings), deploymentOf(ctx, mv)),
    ensure(ctx, SERVICE, buildVersionService(mv), ctx.cache.get(SERVICE, key)),
    hpa ? ensure(ctx, HPA, hpa, observedHpa) : observedHpa && remove(ctx, HPA, key.namespace, key.name),
  ]);
}

/** Server-side apply, only when the cluster's copy lacks something we set. Our objects: we force. */
async function ensure(ctx: ReconcileContext, ref: ResourceRef, desired: object, observed: unknown): Promise<void> {
  if (satisfies(observed, desired)) return;
  await ctx.client.apply(ref, desired as KubernetesObject, { force: true });
}

async function remove(ctx: ReconcileContext, ref: ResourceRef, namespace: string, name: string): Promise<void> {
  try {
    await ctx.client.delete(ref, { namespace, name });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
