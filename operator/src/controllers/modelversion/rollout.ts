// The state machine of a model's versions, pure: from what one pass sees (ModelView) and, when an
// analysis ran, its outcome, to every version's phase, role, weight and replicas, the split the traffic
// router makes, and the Events worth telling. The README of this folder draws it.
import {
  DEFAULT_STEPS,
  ROLLOUT_DEFAULTS,
  type ModelVersionPhase,
  type ModelVersionStatus,
  type Role,
} from '../../api/index.js';
import { toMetaTime, type ConditionInput } from '../../runtime/index.js';
import { isPaused, pendingActions, type Handled, type Pending } from './actions.js';
import {
  resolveAnalysis,
  worstCaseDetectionSeconds,
  type AnalysisResult,
  type ResolvedAnalysis,
} from './analysis/checks.js';
import type { Target } from './analysis/queries.js';
import { gatewayApiRouter } from './traffic/gateway-api.js';
import type { HTTPRoute } from './traffic/httproute.js';
import { replicaRatioRouter } from './traffic/replica-ratio.js';
import type { DesiredSplit, GatewayApiSpec, ObservedRouting, RoutingPlan, TrafficRouter } from './traffic/router.js';
import { routeName } from './names.js';
import { isDeleting, type ModelView, type VersionView } from './view.js';

export interface PendingEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export type AnalysisOutcome =
  | { kind: 'measured'; result: AnalysisResult }
  /** Prometheus unreachable, a query erroring, or no Prometheus configured at all. */
  | { kind: 'unavailable'; reason: 'MetricsUnavailable' | 'NoMetricsSource'; message: string };

export type Rollout = NonNullable<ModelVersionStatus['rollout']>;
export type LastAnalysis = NonNullable<ModelVersionStatus['analysis']>;

/** What the pass decided for one live version; status.ts turns it into the status and conditions. */
export interface Draft {
  view: VersionView;
  phase: ModelVersionPhase;
  role: Role;
  weight: number;
  /** Pods for its Deployment ('autoscaled': its HPA decides). */
  replicas: number | 'autoscaled';
  autoscaler: boolean;
  createdAsRole: Role;
  rollout: Rollout;
  analysis?: LastAnalysis;
  worstCaseDetectionSeconds?: number;
  handled: Handled;
  pending: Pending;
  /** Set by the machine for a canary; status.ts derives it for the other phases. */
  progressing?: ConditionInput;
  /** A new promotion or rollback this pass (reason, message); earlier ones keep their condition. */
  promoted?: { reason: string; message: string };
  rolledBack?: { reason: string; message: string };
  retried?: boolean;
  degraded?: { reason: string; message: string };
  events: PendingEvent[];
}

export interface Routing {
  router: TrafficRouter;
  split: DesiredSplit;
  observed: ObservedRouting;
}

export interface ModelPlan {
  /** The live versions of the model, oldest first. */
  drafts: Draft[];
  /** Undefined when no live version is left: the model's Service and owned route go. */
  routing?: Routing;
  /** The operator-owned HTTPRoute exists but the model is no longer routed by it. */
  deleteOwnedRoute: boolean;
  /**
   * Versions being deleted: their traffic is gone with the routing above; the finalizer goes once
   * `until` has passed (pods drain), which the controller records in their status first.
   */
  deleting: { view: VersionView; until: string }[];
  requeueAfterMs?: number;
}

const RETRYABLE: ModelVersionPhase[] = ['RolledBack', 'Superseded', 'Retired'];
const SETTLED: ModelVersionPhase[] = ['RolledBack', 'Superseded', 'Retired', 'Failed'];
/**
 * A safety net while waiting on pods or routes: their watch events wake the model first. Long, because a
 * version whose pods cannot schedule waits for good: at 30 s, 1780 such versions cost 75 reconciles a second.
 */
const WAIT_REQUEUE_MS = 300_000;
/**
 * How long a version's pods outlive its traffic: a routing change takes a moment to reach every proxy
 * (EndpointSlices, kube-proxy's rules, a gateway's configuration); a pod stopped before then refuses what
 * still arrives. 30 s, as Argo Rollouts' abortScaleDownDelaySeconds: on the loaded test bed 5 s still
 * left 5 % of requests refused when a canary was deleted mid-rollout.
 */
export const DRAIN_MS = 30_000;
const drainUntil = (now: Date) => toMetaTime(new Date(now.getTime() + DRAIN_MS));
/** A version that had traffic: its status says so. */
const hadTraffic = (v: VersionView) =>
  (v.mv.status?.weight ?? 0) > 0 || v.mv.status?.role === 'stable' || v.mv.status?.rollout?.stepReachedAt !== undefined;

const stepsOf = (v: VersionView) => v.mv.spec.serving?.rollout?.steps ?? DEFAULT_STEPS;
const specReplicas = (v: VersionView) => v.mv.spec.serving?.replicas ?? 1;
const readyOf = (v: VersionView) => v.deployment?.readyReplicas ?? 0;
const created = (v: VersionView) => Date.parse(v.mv.metadata.creationTimestamp ?? '') || 0;
const since = (d: Draft) => Date.parse(d.rollout.candidateSince ?? '') || created(d.view);
const byAge = (a: Draft, b: Draft) =>
  since(a) - since(b) || a.view.mv.metadata.name.localeCompare(b.view.mv.metadata.name);
const label = (d: Draft) => `${d.view.mv.spec.model} ${d.view.mv.spec.version}`;
const gatewaySpec = (v: VersionView | undefined): GatewayApiSpec | undefined => v?.mv.spec.serving?.traffic?.gatewayAPI;

function newDraft(view: VersionView): Draft {
  const status = view.mv.status ?? {};
  return {
    view,
    phase: status.phase ?? 'Pending',
    role: status.role ?? 'none',
    weight: 0,
    replicas: 0,
    autoscaler: false,
    createdAsRole: view.deployment?.createdAsRole ?? 'canary',
    rollout: { ...status.rollout },
    ...(status.analysis ? { analysis: status.analysis } : {}),
    handled: { ...status.handledActions },
    pending: pendingActions(view.mv),
    events: [],
  };
}

/** The analysis due this pass, if any: the canary has traffic and its last analysis is an interval old. */
export interface AnalysisRequest {
  target: Target;
  spec: ResolvedAnalysis;
  prometheusUrl?: string;
}

export function analysisDue(view: ModelView): AnalysisRequest | undefined {
  const { stable, canary } = assignRoles(view);
  if (!stable || !canary || canary.pending.abort !== undefined) return undefined;
  const status = canary.view.mv.status;
  // Analysis runs every interval while the canary has traffic (its status says it was routed).
  if (status?.role !== 'canary' || !isRouted(status)) return undefined;
  const spec = resolveAnalysis(canary.view.mv.spec.serving?.rollout?.analysis);
  const last = Date.parse(status.analysis?.time ?? '') || 0;
  if (view.now.getTime() - last < spec.intervalSeconds * 1000) return undefined;
  const prometheusUrl = spec.prometheusUrl ?? view.defaultPrometheusUrl;
  return {
    target: {
      namespace: view.namespace,
      model: view.model,
      canary: canary.view.mv.spec.version,
      stable: stable.view.mv.spec.version,
      windowSeconds: spec.windowSeconds,
    },
    spec,
    ...(prometheusUrl ? { prometheusUrl } : {}),
  };
}

/** A canary whose split was in place once (weight 0 for an experiment by header) has traffic. */
const isRouted = (status: ModelVersionStatus) =>
  (status.weight ?? 0) > 0 || status.rollout?.stepReachedAt !== undefined;

interface Roles {
  drafts: Draft[];
  stable?: Draft;
  /** No stable yet: the newest candidate, stable once its pods are ready. */
  initial?: Draft;
  canary?: Draft;
}

/** Who is stable, who is the canary, who is superseded: the part of the machine analysisDue needs too. */
function assignRoles(view: ModelView): Roles {
  const drafts = view.versions
    .filter((v) => !isDeleting(v))
    .map(newDraft)
    .sort(byAge);
  const now = toMetaTime(view.now);

  // Two ModelVersions of one version cannot be told apart in the metrics: the younger one fails.
  const byVersion = new Map<string, Draft>();
  for (const d of [...drafts].sort((a, b) => created(a.view) - created(b.view) || byAge(a, b))) {
    const first = byVersion.get(d.view.mv.spec.version);
    if (d.view.conflict) fail(d, 'NameConflict', d.view.conflict);
    else if (!first) byVersion.set(d.view.mv.spec.version, d);
    else
      fail(
        d,
        'DuplicateVersion',
        `version ${d.view.mv.spec.version} of ${d.view.mv.spec.model} is already ModelVersion ${first.view.mv.metadata.name}; the serving metrics could not tell them apart`,
      );
  }

  for (const d of drafts) {
    if (d.pending.retry === undefined) continue;
    d.handled.retry = d.pending.retry;
    if (RETRYABLE.includes(d.phase)) {
      d.phase = 'Pending';
      d.role = 'none';
      d.rollout = { candidateSince: now };
      delete d.analysis;
      d.retried = true;
      d.events.push({
        type: 'Normal',
        reason: 'Retried',
        message: `${label(d)} is a candidate again (modelops.dev/retry)`,
      });
    } else {
      d.events.push(ignored(d, 'retry', `it is ${d.phase}, not rolled back, superseded or retired`));
    }
  }

  const stables = drafts.filter((d) => d.role === 'stable' && d.phase !== 'Failed');
  // Two stables only after a crash between the writes of a promotion: the one promoted last is.
  const stable = stables.sort((a, b) => promotedAt(b) - promotedAt(a) || byAge(b, a))[0];
  for (const other of stables.slice(1)) retire(other, stable!, view.now);

  const candidates = drafts.filter((d) => d !== stable && !SETTLED.includes(d.phase)).sort(byAge);
  const newest = candidates.at(-1);
  for (const older of candidates.slice(0, -1)) supersede(older, newest!, view.now);
  return stable
    ? { drafts, stable, ...(newest ? { canary: newest } : {}) }
    : { drafts, ...(newest ? { initial: newest } : {}) };
}

const promotedAt = (d: Draft) => Date.parse(d.rollout.promotedAt ?? '') || 0;

function fail(d: Draft, reason: string, message: string): void {
  if (d.phase !== 'Failed') d.events.push({ type: 'Warning', reason, message });
  d.phase = 'Failed';
  d.role = 'none';
  d.degraded = { reason, message };
}

function ignored(d: Draft, action: string, why: string): PendingEvent {
  return {
    type: 'Normal',
    reason: 'ActionIgnored',
    message: `modelops.dev/${action} on ${d.view.mv.metadata.name} ignored: ${why}`,
  };
}

function supersede(d: Draft, by: Draft, now: Date): void {
  if (d.phase !== 'Superseded' && hadTraffic(d.view)) d.rollout = { ...d.rollout, drainUntil: drainUntil(now) };
  if (d.phase !== 'Superseded') {
    const was = d.role === 'canary' ? ` at ${d.view.mv.status?.weight ?? 0} %` : '';
    d.events.push({
      type: 'Normal',
      reason: 'Superseded',
      message: `superseded by ${by.view.mv.metadata.name} (${by.view.mv.spec.version})${was}: its traffic went to 0`,
    });
  }
  d.phase = 'Superseded';
  d.role = 'none';
  d.rollout = { ...d.rollout, replacedBy: by.view.mv.metadata.name };
  clearPending(d);
}

function retire(d: Draft, by: Draft, now: Date): void {
  if (d.phase !== 'Retired') {
    d.events.push({ type: 'Normal', reason: 'Retired', message: `replaced as stable by ${by.view.mv.metadata.name}` });
    d.rollout = { ...d.rollout, retiredAt: toMetaTime(now) };
  }
  d.phase = 'Retired';
  d.role = 'none';
  d.rollout = { ...d.rollout, replacedBy: by.view.mv.metadata.name };
}

/** Actions that no longer mean anything once a version has settled are recorded as handled. */
function clearPending(d: Draft): void {
  for (const [action, value] of Object.entries(d.pending)) d.handled[action as keyof Handled] = value;
  d.pending = {};
}

function becomeStable(d: Draft, previous: Draft | undefined, reason: string, message: string, now: Date): void {
  d.phase = 'Serving';
  d.role = 'stable';
  d.rollout = {
    ...d.rollout,
    promotedAt: toMetaTime(now),
    ...(previous ? { previousStable: previous.view.mv.metadata.name } : {}),
  };
  delete d.rollout.stepReachedAt;
  delete d.rollout.metricsUnavailableSince;
  d.promoted = { reason, message };
  d.events.push({ type: 'Normal', reason: previous ? 'Promoted' : 'Serving', message });
  if (previous) retire(previous, d, now);
}

function rollBack(d: Draft, stable: Draft, reason: string, message: string, now: Date): void {
  d.phase = 'RolledBack';
  d.role = 'none';
  d.rollout = { ...d.rollout, rolledBackAt: toMetaTime(now), drainUntil: drainUntil(now) };
  delete d.rollout.stepReachedAt;
  d.rolledBack = { reason, message };
  d.events.push({
    type: 'Warning',
    reason: 'RolledBack',
    message: `${message}; all traffic back on ${stable.view.mv.spec.version}`,
  });
  clearPending(d);
}

/** The traffic mechanism: the canary's spec chooses during a rollout, else the stable's. */
function chooseRouter(
  view: ModelView,
  roles: Roles,
): { router: TrafficRouter; problem?: { reason: string; message: string } } {
  const leading = roles.canary ?? roles.stable ?? roles.initial;
  const spec = gatewaySpec(roles.canary?.view) ?? gatewaySpec((roles.stable ?? roles.initial)?.view);
  if (!spec) return { router: replicaRatioRouter };
  if (!view.gatewayApiAvailable)
    return {
      router: replicaRatioRouter,
      problem: {
        reason: 'GatewayAPIUnavailable',
        message: `${leading?.view.mv.metadata.name} asks for traffic.gatewayAPI but the cluster does not serve HTTPRoutes (gateway.networking.k8s.io/v1): install the Gateway API CRDs or remove gatewayAPI to split by replica ratio`,
      },
    };
  if (spec.httpRoute && !view.routes[spec.httpRoute])
    return {
      router: gatewayApiRouter(spec),
      problem: {
        reason: 'HTTPRouteNotFound',
        message: `HTTPRoute ${spec.httpRoute} named by traffic.gatewayAPI.httpRoute does not exist`,
      },
    };
  return { router: gatewayApiRouter(spec) };
}

const observedRoute = (view: ModelView, roles: Roles): HTTPRoute | undefined => {
  const spec = gatewaySpec(roles.canary?.view) ?? gatewaySpec((roles.stable ?? roles.initial)?.view);
  if (!spec) return undefined;
  return view.routes[spec.parentRefs ? routeName(view.model) : spec.httpRoute!];
};

export function decideModel(view: ModelView, outcome?: AnalysisOutcome): ModelPlan {
  const roles = assignRoles(view);
  const { drafts, stable, initial, canary } = roles;
  const wakeups: number[] = [];

  ignoreMisplacedActions(roles);
  if (!stable && initial) settleInitial(initial, view.now);

  const { router, problem } = chooseRouter(view, roles);
  const serving = stable ?? initial;
  const observed = observedRouting(view, roles, serving);
  const split = baseSplit(view, serving);
  if (canary && stable) {
    stepCanary({ view, canary, stable, router, problem, observed, split, outcome, wakeups });
    // Promoted or rolled back this pass: the split is the stable's alone, written at once.
    if (canary.role !== 'canary') {
      delete split.canary;
      Object.assign(
        split,
        baseSplit(
          view,
          drafts.find((d) => d.role === 'stable'),
        ),
      );
    }
  }
  if (view.modelServiceConflict)
    for (const d of drafts)
      if (!SETTLED.includes(d.phase)) d.degraded = { reason: 'NameConflict', message: view.modelServiceConflict };
  // The versions whose own spec asks for Gateway API say why it is not used.
  if (problem)
    for (const d of drafts) if (gatewaySpec(d.view) && !SETTLED.includes(d.phase)) d.degraded = { ...problem };

  const plan: Pick<RoutingPlan, 'canaryReplicas' | 'route'> =
    split.stable || split.canary ? router.desired(split, observed) : { canaryReplicas: 0 };
  for (const d of drafts) size(d, { view, router, split, canary, canaryReplicas: plan.canaryReplicas, wakeups });

  const waiting =
    drafts.some((d) => d.phase === 'Deploying') || (canary?.phase === 'Canary' && !canary.rollout.stepReachedAt);
  if (waiting) wakeups.push(view.now.getTime() + WAIT_REQUEUE_MS);
  // Before `next`: a deleted version's drain end is a wakeup too.
  const deleting = draining(view, wakeups);
  const next = wakeups.filter((t) => t > view.now.getTime()).sort((a, b) => a - b)[0];
  const ownedRoute = view.routes[routeName(view.model)];
  const routedByOwnedRoute = router.mechanism === 'GatewayAPI' && plan.route !== undefined && 'owned' in plan.route;
  return {
    drafts,
    ...(split.stable || split.canary ? { routing: { router, split, observed } } : {}),
    deleteOwnedRoute: Boolean(ownedRoute && !routedByOwnedRoute && isOwnedRoute(ownedRoute)),
    deleting,
    ...(next !== undefined ? { requeueAfterMs: Math.max(1, next - view.now.getTime()) } : {}),
  };
}

/** Promote and abort mean something only for the canary: elsewhere they are handled with an Event saying why not. */
function ignoreMisplacedActions({ drafts, stable, initial, canary }: Roles): void {
  for (const d of drafts) {
    if (d === canary) continue;
    const why =
      d === stable
        ? { abort: 'it is the stable version: nothing to roll back to', promote: 'it is already the stable version' }
        : d === initial
          ? {
              abort: 'the model has no stable version to roll back to',
              promote: 'it becomes stable as soon as its pods are ready',
            }
          : { abort: `it is ${d.phase}, not the canary`, promote: `it is ${d.phase}, not the canary` };
    for (const action of ['abort', 'promote'] as const) {
      if (d.pending[action] === undefined) continue;
      d.handled[action] = d.pending[action];
      d.events.push(ignored(d, action, why[action]));
    }
  }
}

/** A model with no stable: its newest candidate becomes stable as soon as one of its pods is ready. */
function settleInitial(initial: Draft, now: Date): void {
  if (readyOf(initial.view) > 0) {
    const reason = initial.view.mv.status?.role === 'canary' ? 'StableRemoved' : 'FirstVersion';
    becomeStable(initial, undefined, reason, `serving ${label(initial)} as the stable version`, now);
  } else {
    initial.phase = 'Deploying';
    initial.role = 'none';
  }
}

function observedRouting(view: ModelView, roles: Roles, serving: Draft | undefined): ObservedRouting {
  const route = observedRoute(view, roles);
  return {
    ...(view.modelService ? { modelService: view.modelService } : {}),
    ...(route ? { route } : {}),
    stableReadyReplicas: serving ? readyOf(serving.view) : 0,
    canaryReadyReplicas: roles.canary ? readyOf(roles.canary.view) : 0,
  };
}

/** The split with the serving version alone; stepCanary adds the canary. */
function baseSplit(view: ModelView, serving: Draft | undefined): DesiredSplit {
  const v = serving?.view;
  return {
    model: view.model,
    namespace: view.namespace,
    versionNames: view.versions.map((x) => x.mv.metadata.name),
    ...(v
      ? {
          stable: {
            name: v.mv.metadata.name,
            version: v.mv.spec.version,
            // An autoscaled stable is as large as the HPA made it: the canary is sized against that.
            replicas: v.mv.spec.serving?.autoscaling ? Math.max(1, readyOf(v)) : specReplicas(v),
          },
        }
      : {}),
  };
}

interface SizeInput {
  view: ModelView;
  router: TrafficRouter;
  split: DesiredSplit;
  canary?: Draft;
  canaryReplicas: number;
  wakeups: number[];
}

/** Each version's share of the traffic and its pods, from its phase and the split. */
function size(d: Draft, { view, router, split, canary, canaryReplicas, wakeups }: SizeInput): void {
  const canaryWeight = split.canary?.weight ?? 0;
  const stable = split.stable?.name;
  const servesModel = !stable || stable === d.view.mv.metadata.name;
  d.createdAsRole = d.view.deployment?.createdAsRole ?? (servesModel ? 'stable' : 'canary');
  d.weight = 0;
  d.replicas = 0;
  switch (d.phase) {
    case 'Serving': {
      const autoscaled = Boolean(d.view.mv.spec.serving?.autoscaling);
      d.weight = 100 - canaryWeight;
      d.replicas = autoscaled ? 'autoscaled' : specReplicas(d.view);
      d.autoscaler = autoscaled;
      return;
    }
    case 'Deploying':
      d.replicas = d === canary ? canaryReplicas : specReplicas(d.view);
      return;
    case 'Canary':
    case 'Paused':
    case 'Experiment':
      d.replicas = canaryReplicas;
      d.weight = canaryWeight;
      return;
    case 'RolledBack':
    case 'Superseded': {
      // Its pods drain what the proxies still send for a moment; under a replica ratio that selects every
      // version's pods they would take traffic, so they go at once.
      const until = Date.parse(d.rollout.drainUntil ?? '') || 0;
      if (until > view.now.getTime() && !(router.mechanism === 'ReplicaRatio' && canaryWeight > 0)) {
        d.replicas = d.view.mv.status?.replicas ?? 0;
        wakeups.push(until);
      }
      return;
    }
    case 'Retired': {
      // Its pods stay a while after a promotion, unless a replica-ratio canary needs the model's
      // Service to select every version's pods (they would take traffic).
      const successor = view.versions.find((v) => v.mv.metadata.name === stable)?.mv;
      const delaySeconds =
        successor?.spec.serving?.rollout?.scaleDownDelaySeconds ?? ROLLOUT_DEFAULTS.scaleDownDelaySeconds;
      const until = (Date.parse(d.rollout.retiredAt ?? '') || 0) + delaySeconds * 1000;
      const keep = until > view.now.getTime() && !(router.mechanism === 'ReplicaRatio' && canaryWeight > 0);
      if (keep) {
        // The pods it has (all of them, unless a replica-ratio canary took them; an autoscaled stable's, as many as
        // its HPA had made, not its spec's count): gone ones do not come back.
        d.replicas = d.view.mv.status?.replicas ?? d.view.deployment?.replicas ?? specReplicas(d.view);
        wakeups.push(until);
      }
      return;
    }
  }
}

/** Versions being deleted, each with the time its finalizer may go: at once if it had no traffic. */
function draining(view: ModelView, wakeups: number[]): ModelPlan['deleting'] {
  return view.versions.filter(isDeleting).map((v) => {
    const until = v.mv.status?.rollout?.drainUntil ?? (hadTraffic(v) ? drainUntil(view.now) : toMetaTime(view.now));
    wakeups.push(Date.parse(until));
    return { view: v, until };
  });
}

const isOwnedRoute = (route: HTTPRoute) => route.metadata.labels?.['app.kubernetes.io/managed-by'] === 'modelops';

interface StepInput {
  view: ModelView;
  canary: Draft;
  stable: Draft;
  router: TrafficRouter;
  problem?: { reason: string; message: string };
  observed: ObservedRouting;
  split: DesiredSplit;
  outcome?: AnalysisOutcome;
  wakeups: number[];
}

/** What one pass knows about the canary's rollout spec. */
interface CanaryPlan {
  steps: { weight: number; pauseSeconds?: number }[];
  step: number;
  analysis: ResolvedAnalysis;
  experiment?: { weight?: number; header?: { name: string; value: string } };
}

/** One pass of the canary's rollout: its step, its analysis, its promotion or rollback. */
function stepCanary(input: StepInput): void {
  const { view, canary: c, stable, router, problem, observed, split } = input;
  const now = view.now;
  const rolloutSpec = c.view.mv.spec.serving?.rollout;
  const steps = stepsOf(c.view);
  const analysis = resolveAnalysis(rolloutSpec?.analysis);
  if (c.role !== 'canary') start(c, stable, router, steps, rolloutSpec?.experiment, now);
  c.role = 'canary';
  const plan: CanaryPlan = {
    steps,
    step: Math.min(c.rollout.step ?? 0, steps.length - 1),
    analysis,
    ...(rolloutSpec?.experiment ? { experiment: rolloutSpec.experiment } : {}),
  };
  c.rollout.steps = steps.length;
  c.rollout.step = plan.step;
  c.worstCaseDetectionSeconds = worstCaseDetectionSeconds(analysis);

  if (c.pending.abort !== undefined) {
    c.handled.abort = c.pending.abort;
    rollBack(c, stable, 'Aborted', `aborted by modelops.dev/abort: ${c.pending.abort || '(no reason given)'}`, now);
    return;
  }
  if (c.view.deployment?.failed) {
    rollBack(c, stable, 'DeploymentFailed', `the canary's pods never became ready: ${c.view.deployment.failed}`, now);
    return;
  }

  const targetWeight = plan.experiment ? (plan.experiment.weight ?? 0) : steps[plan.step]!.weight;
  const canarySplit: NonNullable<DesiredSplit['canary']> = {
    name: c.view.mv.metadata.name,
    version: c.view.mv.spec.version,
    weight: 0,
    sizeFor: plan.experiment?.header ? 100 : targetWeight,
    replicas: specReplicas(c.view),
  };
  split.canary = canarySplit;
  if (problem) {
    c.phase = 'Canary';
    c.progressing = condition('False', problem.reason, `held at 0 %: ${problem.message}`);
    return;
  }

  const needed = Math.max(1, router.desired(split, observed).canaryReplicas);
  const podsReady = readyOf(c.view) >= needed;
  if (c.pending.promote !== undefined && podsReady) {
    c.handled.promote = c.pending.promote;
    const was = `was at ${c.view.mv.status?.weight ?? 0} %; stable was ${stable.view.mv.spec.version}`;
    becomeStable(c, stable, 'PromotedByAction', `${label(c)} promoted by modelops.dev/promote (${was})`, now);
    return;
  }
  const wasRouted = c.view.mv.status?.role === 'canary' && isRouted(c.view.mv.status);
  if (!podsReady && !wasRouted) {
    c.phase = 'Deploying';
    c.progressing = condition('True', 'Deploying', `waiting for the canary's pods: ${readyOf(c.view)}/${needed} ready`);
    return;
  }

  canarySplit.weight = targetWeight;
  if (plan.experiment?.header) canarySplit.header = plan.experiment.header;
  if (!c.rollout.stepReachedAt && router.inPlace(split, observed)) c.rollout.stepReachedAt = toMetaTime(now);
  if (recordOutcome(c, stable, input.outcome, analysis, now, input.wakeups)) return;
  progress(c, stable, plan, canarySplit, now, input.wakeups);
}

const condition = (status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({
  type: 'Progressing',
  status,
  reason,
  message,
});

/** A new canary: from step 0, with fresh counters, and an Event saying how it will go. */
function start(
  c: Draft,
  stable: Draft,
  router: TrafficRouter,
  steps: CanaryPlan['steps'],
  experiment: CanaryPlan['experiment'],
  now: Date,
): void {
  const mv = c.view.mv;
  c.rollout = {
    candidateSince: c.rollout.candidateSince ?? mv.metadata.creationTimestamp ?? toMetaTime(now),
    step: 0,
    steps: steps.length,
    consecutiveFailures: 0,
  };
  delete c.analysis;
  const mechanism = router.mechanism === 'GatewayAPI' ? 'Gateway API route weights' : 'replica ratio';
  const how = experiment
    ? `an experiment (${experimentText(experiment)})`
    : `steps ${steps.map((s) => s.weight).join(' → ')} %`;
  c.events.push({
    type: 'Normal',
    reason: 'CanaryStarted',
    message: `rolling out ${mv.spec.version} against stable ${stable.view.mv.spec.version} by ${mechanism}: ${how}`,
  });
}

/**
 * Records this pass's analysis: the last analysis, the failure count, and the verdict of the current
 * step (only an analysis that ran while the step's split was in place counts for it). Metrics that
 * cannot be read hold everything and, past the limit, roll back. Returns true when it rolled back.
 */
function recordOutcome(
  c: Draft,
  stable: Draft,
  outcome: AnalysisOutcome | undefined,
  analysis: ResolvedAnalysis,
  now: Date,
  wakeups: number[],
): boolean {
  const inPlace = c.rollout.stepReachedAt !== undefined;
  if (outcome?.kind === 'unavailable') {
    const from = c.rollout.metricsUnavailableSince ?? toMetaTime(now);
    c.rollout.metricsUnavailableSince = from;
    c.analysis = {
      time: toMetaTime(now),
      verdict: 'Error',
      windowSeconds: analysis.windowSeconds,
      message: outcome.message,
      checks: c.analysis?.checks ?? [],
    };
    if (inPlace) c.rollout.stepVerdict = 'Error';
    c.degraded = { reason: outcome.reason, message: outcome.message };
    if (outcome.reason === 'NoMetricsSource') return false;
    const forMs = now.getTime() - Date.parse(from);
    const limitMs = analysis.metricsUnavailableRollbackSeconds * 1000;
    if (forMs >= limitMs) {
      const limit = `limit ${analysis.metricsUnavailableRollbackSeconds} s`;
      rollBack(
        c,
        stable,
        'MetricsUnavailable',
        `no metrics for ${Math.round(forMs / 1000)} s (${limit}): ${outcome.message}`,
        now,
      );
      return true;
    }
    wakeups.push(Date.parse(from) + limitMs);
  } else if (outcome?.kind === 'measured') {
    const { result } = outcome;
    delete c.rollout.metricsUnavailableSince;
    c.analysis = {
      time: toMetaTime(now),
      verdict: result.verdict,
      windowSeconds: analysis.windowSeconds,
      message: result.message,
      checks: result.checks,
    };
    if (inPlace) c.rollout.stepVerdict = result.verdict;
    const failures = c.rollout.consecutiveFailures ?? 0;
    c.rollout.consecutiveFailures = result.verdict === 'Fail' ? failures + 1 : result.verdict === 'Pass' ? 0 : failures;
    if (c.rollout.consecutiveFailures >= analysis.failureLimit) {
      rollBack(c, stable, 'AnalysisFailed', result.message, now);
      return true;
    }
  } else if (c.rollout.metricsUnavailableSince) {
    const degraded = c.view.mv.status?.conditions?.find((x) => x.type === 'Degraded' && x.status === 'True');
    c.degraded = {
      reason: degraded?.reason ?? 'MetricsUnavailable',
      message: c.analysis?.message ?? 'metrics unavailable',
    };
  }
  const last = Date.parse(c.analysis?.time ?? '') || now.getTime();
  wakeups.push(last + analysis.intervalSeconds * 1000);
  return false;
}

/** Holds (experiment, pause), advances a step, or promotes after the last one. */
function progress(
  c: Draft,
  stable: Draft,
  plan: CanaryPlan,
  canarySplit: NonNullable<DesiredSplit['canary']>,
  now: Date,
  wakeups: number[],
): void {
  const { steps, step, experiment } = plan;
  const reachedAt = Date.parse(c.rollout.stepReachedAt ?? '') || 0;
  const where = experiment ? 'experiment' : `step ${step + 1} of ${steps.length}: ${steps[step]!.weight} %`;
  if (experiment) {
    c.phase = 'Experiment';
    const held = `held as an experiment (${experimentText(experiment)}); modelops.dev/promote ends it`;
    c.progressing = condition('False', 'Experiment', held);
    return;
  }
  if (isPaused(c.view.mv)) {
    if (c.phase !== 'Paused') c.events.push({ type: 'Normal', reason: 'Paused', message: `paused at ${where}` });
    c.phase = 'Paused';
    c.progressing = condition('False', 'Paused', `paused at ${where} (spec.serving.rollout.paused)`);
    return;
  }
  if (c.phase === 'Paused') c.events.push({ type: 'Normal', reason: 'Resumed', message: `resumed at ${where}` });
  c.phase = 'Canary';

  const pauseMs = 1000 * (steps[step]!.pauseSeconds ?? ROLLOUT_DEFAULTS.pauseSeconds);
  if (reachedAt > 0) wakeups.push(reachedAt + pauseMs);
  const passed = c.rollout.stepVerdict === 'Pass' && !c.rollout.metricsUnavailableSince;
  if (reachedAt > 0 && now.getTime() - reachedAt >= pauseMs && passed) {
    if (step === steps.length - 1) {
      const message = `${label(c)} passed every step and is the stable version (was ${stable.view.mv.spec.version})`;
      becomeStable(c, stable, 'AnalysisPassed', message, now);
      return;
    }
    c.rollout.step = step + 1;
    delete c.rollout.stepReachedAt;
    delete c.rollout.stepVerdict;
    canarySplit.weight = canarySplit.sizeFor = steps[step + 1]!.weight;
    const next = `step ${step + 2} of ${steps.length}: ${steps[step + 1]!.weight} %`;
    c.events.push({ type: 'Normal', reason: 'StepAdvanced', message: next });
    c.progressing = condition('True', 'ShiftingTraffic', `${next}; shifting traffic`);
    return;
  }
  const verdict = c.rollout.stepVerdict ? `analysis ${c.rollout.stepVerdict}` : 'waiting for an analysis';
  c.progressing = reachedAt
    ? condition('True', 'Analysing', `${where}; ${verdict}`)
    : condition('True', 'ShiftingTraffic', `${where}; shifting traffic`);
}

const experimentText = (e: { weight?: number; header?: { name: string; value: string } }) =>
  e.header ? `requests with ${e.header.name}: ${e.header.value}` : `${e.weight} % of requests`;
