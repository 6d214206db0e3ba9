// The state machine over many passes: a small simulated cluster applies each plan (statuses, replica
// counts, the model's Service, the route) and pods become ready when asked, so whole rollouts run here
// in milliseconds, on a fake clock.
import type { V1Service } from '@kubernetes/client-node';
import type { ModelVersion, ModelVersionSpec, ModelVersionStatus, Role } from '../../api/index.js';
import { setCondition, toMetaTime, type Condition, type DesiredStatus } from '../../runtime/index.js';
import type { AnalysisResult } from './analysis/checks.js';
import { modelVersion } from './fixtures.test-helpers.js';
import {
  analysisDue,
  decideModel,
  DRAIN_MS,
  type AnalysisOutcome,
  type ModelPlan,
  type PendingEvent,
} from './rollout.js';
import { versionStatus } from './status.js';
import type { HTTPRoute } from './traffic/httproute.js';
import type { ModelView } from './view.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const pass: AnalysisResult = { verdict: 'Pass', checks: [], message: '6 checks passed over 60s' };
const fail: AnalysisResult = {
  verdict: 'Fail',
  checks: [{ name: 'error-rate', verdict: 'Fail', value: 0.31, threshold: 0.01, message: '31 % > 1 %' }],
  message: 'error-rate: 31 % > 1 %',
};
const inconclusive: AnalysisResult = {
  verdict: 'Inconclusive',
  checks: [],
  message: 'samples: 3 requests in 60s (minimum 50)',
};
const measured = (result: AnalysisResult): AnalysisOutcome => ({ kind: 'measured', result });
const down: AnalysisOutcome = {
  kind: 'unavailable',
  reason: 'MetricsUnavailable',
  message: 'Prometheus http://p: unreachable',
};

/** A fast rollout: 10 s steps, 5 s analyses. */
const FAST: Partial<ModelVersionSpec> = {
  serving: {
    replicas: 2,
    rollout: {
      steps: [
        { weight: 5, pauseSeconds: 10 },
        { weight: 50, pauseSeconds: 10 },
        { weight: 100, pauseSeconds: 10 },
      ],
      scaleDownDelaySeconds: 30,
      analysis: { intervalSeconds: 5, windowSeconds: 10, failureLimit: 2, metricsUnavailableRollbackSeconds: 60 },
    },
  },
};

/** What the runtime's status writer does: fields set (undefined removes), conditions merged. */
function writeStatus(mv: ModelVersion, desired: DesiredStatus, now: Date): Record<string, unknown> {
  const { conditions, ...fields } = desired;
  const next: Record<string, unknown> = { ...mv.status };
  for (const [k, v] of Object.entries(fields))
    if (v === undefined) delete next[k];
    else next[k] = v;
  next.conditions = (conditions ?? []).reduce<Condition[]>(
    (acc, c) => setCondition(acc, c, mv.metadata.generation, now),
    (mv.status?.conditions as Condition[] | undefined) ?? [],
  );
  return JSON.parse(JSON.stringify(next)) as Record<string, unknown>;
}

class Cluster {
  now = T0;
  versions = new Map<string, ModelVersion>();
  deployments = new Map<string, { replicas: number | 'autoscaled'; ready: number; role: Role }>();
  modelService?: V1Service;
  routes: Record<string, HTTPRoute> = {};
  events: (PendingEvent & { object: string })[] = [];
  gatewayApi = true;
  /** List the versions as the API server does (by name) rather than in the order they were applied. */
  listByName = false;
  /** Pods become ready as soon as they are asked for, unless held. */
  holdPods = new Set<string>();
  private created = 0;

  apply(name: string, spec: Partial<ModelVersionSpec> = {}, annotations: Record<string, string> = {}) {
    const existing = this.versions.get(name);
    const generation =
      (existing?.metadata.generation ?? 0) +
      (existing && JSON.stringify(existing.spec) !== JSON.stringify({ ...existing.spec, ...spec }) ? 1 : 0);
    const mv = modelVersion(name, { ...existing?.spec, ...spec }, existing?.status, {
      creationTimestamp: existing?.metadata.creationTimestamp ?? toMetaTime(new Date(T0 + ++this.created * 1000)),
      generation: existing ? generation : 1,
      annotations: { ...existing?.metadata.annotations, ...annotations },
    });
    this.versions.set(name, mv);
  }

  delete(name: string) {
    const mv = this.versions.get(name)!;
    this.versions.set(name, { ...mv, metadata: { ...mv.metadata, deletionTimestamp: toMetaTime(new Date(this.now)) } });
  }

  advance(seconds: number) {
    this.now += seconds * 1000;
  }

  view() {
    return {
      namespace: 'ml',
      model: 'fraud',
      now: new Date(this.now),
      versions: [...this.versions.values()]
        .sort((a, b) => (this.listByName ? a.metadata.name.localeCompare(b.metadata.name) : 0))
        .map((mv) => {
          const d = this.deployments.get(mv.metadata.name);
          return { mv, ...(d ? { deployment: { readyReplicas: d.ready, createdAsRole: d.role } } : {}) };
        }),
      ...(this.modelService ? { modelService: this.modelService } : {}),
      routes: this.routes,
      gatewayApiAvailable: this.gatewayApi,
      defaultPrometheusUrl: 'http://p',
    };
  }

  /** One reconcile: decide, write statuses, apply the objects, then let pods start. */
  reconcile(outcome?: AnalysisOutcome): ModelPlan {
    const view = this.view();
    const plan = decideModel(view, outcome);
    for (const d of plan.drafts) {
      const mv = d.view.mv;
      const status = writeStatus(mv, versionStatus(d, plan, view), new Date(this.now));
      const changed = JSON.stringify(status) !== JSON.stringify(mv.status ?? {});
      this.versions.set(mv.metadata.name, { ...mv, status: status as ModelVersion['status'] });
      if (changed) for (const e of d.events) this.events.push({ ...e, object: mv.metadata.name });
      const before = this.deployments.get(mv.metadata.name);
      this.deployments.set(mv.metadata.name, {
        replicas: d.replicas,
        ready: before?.ready ?? 0,
        role: before?.role ?? d.createdAsRole,
      });
    }
    if (plan.routing) {
      const desired = plan.routing.router.desired(plan.routing.split, plan.routing.observed);
      this.modelService = desired.modelService;
      if (desired.route && 'owned' in desired.route)
        this.routes[desired.route.owned.metadata.name] = desired.route.owned;
      if (desired.route && 'existing' in desired.route)
        this.routes[desired.route.existing.metadata.name] = desired.route.existing;
    } else {
      delete this.modelService;
    }
    if (plan.deleteOwnedRoute) delete this.routes.fraud;
    for (const { view: v, until } of plan.deleting) {
      const mv = this.versions.get(v.mv.metadata.name)!;
      const rollout = { ...mv.status?.rollout, drainUntil: until };
      if (Date.parse(until) > this.now)
        this.versions.set(mv.metadata.name, { ...mv, status: { ...mv.status, rollout } });
      else this.versions.delete(mv.metadata.name);
    }
    for (const [name, d] of this.deployments)
      if (!this.holdPods.has(name)) d.ready = d.replicas === 'autoscaled' ? Math.max(d.ready, 1) : d.replicas;
    return plan;
  }

  /** Reconciles as the controller does: the analysis outcome only when one is due. */
  run(result: AnalysisResult | AnalysisOutcome = pass): ModelPlan {
    const due = analysisDue(this.view());
    const outcome = due ? ('kind' in result ? result : measured(result)) : undefined;
    return this.reconcile(outcome);
  }

  status(name: string): NonNullable<ModelVersion['status']> {
    return this.versions.get(name)?.status ?? {};
  }
  condition(name: string, type: string) {
    return this.status(name).conditions?.find((c) => c.type === type);
  }
  summary() {
    return Object.fromEntries(
      [...this.versions.values()].map((mv) => [
        mv.metadata.name,
        `${mv.status?.phase}/${mv.status?.role}/${mv.status?.weight}`,
      ]),
    );
  }
  eventReasons(name?: string) {
    return this.events.filter((e) => !name || e.object === name).map((e) => e.reason);
  }
}

/** A model serving v1, stable and ready. */
function serving(spec: Partial<ModelVersionSpec> = FAST): Cluster {
  const c = new Cluster();
  c.apply('fraud-v1', spec);
  c.reconcile();
  c.reconcile();
  return c;
}

/** Runs passes, `seconds` apart, until `done` or a bound on passes (the machine must get there). */
function until(c: Cluster, done: () => boolean, result: AnalysisResult | AnalysisOutcome = pass, seconds = 1) {
  for (let i = 0; i < 500 && !done(); i++) {
    c.advance(seconds);
    c.run(result);
  }
  expect(done()).toBe(true);
}

/** A version as one pass finds it: its status, its Deployment's ready pods (none when absent), its age. */
interface Found {
  name: string;
  spec?: Partial<ModelVersionSpec>;
  status?: ModelVersionStatus;
  ready?: number;
  /** The pods its Deployment asks for, when an HPA set them. */
  asked?: number;
  /** Why its Deployment gave up. */
  failed?: string;
  annotations?: Record<string, string>;
  /** Seconds after T0 it was created (T0 + 1 s when absent). */
  created?: number;
  deleting?: boolean;
}
/** FAST, routed by an operator-owned HTTPRoute. */
const GW: Partial<ModelVersionSpec> = {
  serving: { ...FAST.serving, traffic: { gatewayAPI: { parentRefs: [{ name: 'inference' }] } } },
};
/** The time of one pass over found versions: T0 + 100 s. */
const NOW = T0 + 100_000;
const at = (seconds: number) => toMetaTime(new Date(T0 + seconds * 1000));
const SERVING_V1: Found = {
  name: 'fraud-v1',
  status: { phase: 'Serving', role: 'stable', weight: 100, rollout: { promotedAt: at(5) } },
  ready: 2,
};

/** fraud-v2, the canary at its first step (5 %), one pod ready; `rollout` and `extra` add to its status. */
const canaryAt = (status: ModelVersionStatus['rollout'], extra: ModelVersionStatus = {}): Found => ({
  name: 'fraud-v2',
  created: 10,
  status: {
    phase: 'Canary',
    role: 'canary',
    weight: 5,
    rollout: { step: 0, candidateSince: at(10), ...status },
    ...extra,
  },
  ready: 1,
});

function foundView(found: Found[]): ModelView {
  return {
    namespace: 'ml',
    model: 'fraud',
    now: new Date(NOW),
    versions: found.map((f) => ({
      mv: modelVersion(f.name, f.spec ?? FAST, f.status, {
        creationTimestamp: at(f.created ?? 1),
        ...(f.deleting ? { deletionTimestamp: at(90) } : {}),
        ...(f.annotations ? { annotations: f.annotations } : {}),
      }),
      ...(f.ready !== undefined
        ? {
            deployment: {
              readyReplicas: f.ready,
              ...(f.asked !== undefined ? { replicas: f.asked } : {}),
              ...(f.failed ? { failed: f.failed } : {}),
            },
          }
        : {}),
    })),
    routes: {},
    gatewayApiAvailable: true,
    defaultPrometheusUrl: 'http://p',
  };
}
const draftOf = (plan: ModelPlan, name: string) => plan.drafts.find((d) => d.view.mv.metadata.name === name);

describe('the first version of a model', () => {
  test('deploys, then becomes stable as soon as its pods are ready: all traffic, Ready, Promoted', () => {
    const c = new Cluster();
    c.apply('fraud-v1', { serving: { replicas: 2 } });
    c.holdPods.add('fraud-v1');
    c.reconcile();
    expect(c.summary()).toEqual({ 'fraud-v1': 'Deploying/none/0' });
    expect(c.condition('fraud-v1', 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Deploying',
      message: 'waiting for pods: 0/2 pods ready',
    });
    expect(c.modelService!.spec!.selector).toEqual({ 'modelops.dev/modelversion': 'fraud-v1' });
    expect(c.deployments.get('fraud-v1')).toMatchObject({ replicas: 2, role: 'stable' });

    c.holdPods.clear();
    c.reconcile();
    c.reconcile();
    expect(c.summary()).toEqual({ 'fraud-v1': 'Serving/stable/100' });
    expect(c.status('fraud-v1')).toMatchObject({
      url: 'http://fraud.ml.svc/v2/models/fraud',
      traffic: {
        mechanism: 'ReplicaRatio',
        stable: { name: 'fraud-v1', version: 'v1', weight: 100 },
        actualCanaryWeight: 0,
      },
    });
    expect(c.condition('fraud-v1', 'Ready')).toMatchObject({ status: 'True', reason: 'Serving' });
    expect(c.condition('fraud-v1', 'Promoted')).toMatchObject({ status: 'True', reason: 'FirstVersion' });
    expect(c.eventReasons()).toEqual(['Serving']);
  });

  test('re-running passes changes nothing once settled (no writes, no events)', () => {
    const c = serving();
    const before = JSON.stringify(c.versions.get('fraud-v1'));
    const events = c.events.length;
    c.advance(3600);
    c.reconcile();
    expect(JSON.stringify(c.versions.get('fraud-v1'))).toBe(before);
    expect(c.events.length).toBe(events);
  });
});

describe('a canary', () => {
  test('walks every step with passing analyses and is promoted; the old stable retires, then scales to 0', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    c.run();
    expect(c.summary()['fraud-v2']).toBe('Deploying/canary/0');
    // Pods sized for 5 % next to 2 stable pods: 1 canary pod.
    expect(c.deployments.get('fraud-v2')).toMatchObject({ replicas: 1, role: 'canary' });
    expect(c.eventReasons('fraud-v2')).toEqual(['CanaryStarted']);

    const weights: number[] = [];
    const actual: number[] = [];
    until(c, () => {
      const s = c.status('fraud-v2');
      if (s.weight !== undefined && weights.at(-1) !== s.weight && s.phase === 'Canary') weights.push(s.weight);
      const a = c.status('fraud-v2').traffic?.actualCanaryWeight;
      if (a !== undefined && actual.at(-1) !== a) actual.push(a);
      return s.phase === 'Serving';
    });
    expect(weights).toEqual([5, 50, 100]);
    // Replica ratio: 1 of 3 pods, 2 of 4, then the canary alone.
    expect(actual).toEqual(expect.arrayContaining([33.33, 50, 100]));
    expect(c.summary()).toEqual({ 'fraud-v1': 'Retired/none/0', 'fraud-v2': 'Serving/stable/100' });
    expect(c.status('fraud-v2').rollout).toMatchObject({ previousStable: 'fraud-v1', step: 2 });
    expect(c.condition('fraud-v2', 'Promoted')).toMatchObject({ status: 'True', reason: 'AnalysisPassed' });
    expect(c.eventReasons('fraud-v2')).toEqual(['CanaryStarted', 'StepAdvanced', 'StepAdvanced', 'Promoted']);
    expect(c.eventReasons('fraud-v1')).toEqual(['Serving', 'Retired']);
    expect(c.events.find((e) => e.reason === 'Retired')).toEqual({
      type: 'Normal',
      reason: 'Retired',
      message: 'replaced as stable by fraud-v2',
      object: 'fraud-v1',
    });
    expect(c.modelService!.spec!.selector).toEqual({ 'modelops.dev/modelversion': 'fraud-v2' });
    // The retired stable keeps its pods for scaleDownDelaySeconds (30 s), then goes to 0.
    expect(c.deployments.get('fraud-v1')!.replicas).toBe(2);
    c.advance(31);
    const plan = c.reconcile();
    expect(c.deployments.get('fraud-v1')!.replicas).toBe(0);
    expect(c.deployments.get('fraud-v2')!.replicas).toBe(2);
    expect(plan.requeueAfterMs).toBeUndefined();
  });

  test('a step advances only after its pause and a Pass after it was reached; Inconclusive holds it', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    c.run();
    c.run(inconclusive);
    c.run(inconclusive); // reached
    const reached = c.status('fraud-v2').rollout!.stepReachedAt;
    expect(reached).toBeDefined();
    for (let i = 0; i < 60; i++) {
      c.advance(1);
      c.run(inconclusive);
    }
    expect(c.status('fraud-v2')).toMatchObject({
      phase: 'Canary',
      weight: 5,
      rollout: { step: 0, stepReachedAt: reached },
    });
    expect(c.status('fraud-v2').analysis).toMatchObject({
      verdict: 'Inconclusive',
      message: 'samples: 3 requests in 60s (minimum 50)',
    });
    expect(c.condition('fraud-v2', 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'Analysing',
      message: 'step 1 of 3: 5 %; analysis Inconclusive',
    });
    c.advance(5);
    c.run(pass);
    expect(c.status('fraud-v2')).toMatchObject({ weight: 50, rollout: { step: 1 } });
  });

  test('failureLimit consecutive failures roll back: all traffic to stable at once, 0 replicas, a Warning naming the check', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(
      c,
      () => c.status('fraud-v2').rollout?.step === 1 && c.status('fraud-v2').rollout?.stepReachedAt !== undefined,
    );
    c.advance(5);
    c.run(fail);
    expect(c.status('fraud-v2')).toMatchObject({ phase: 'Canary', weight: 50, rollout: { consecutiveFailures: 1 } });
    c.advance(5);
    c.run(pass); // a Pass resets the count
    c.advance(5);
    c.run(fail);
    expect(c.status('fraud-v2').rollout!.consecutiveFailures).toBe(1);
    c.advance(5);
    c.run(fail);
    expect(c.summary()).toEqual({ 'fraud-v1': 'Serving/stable/100', 'fraud-v2': 'RolledBack/none/0' });
    // Its pods drain for a moment (routing changes take a moment to reach the proxies), then go.
    expect(c.deployments.get('fraud-v2')!.replicas).toBeGreaterThan(0);
    c.advance(DRAIN_MS / 1000);
    c.run();
    expect(c.deployments.get('fraud-v2')!.replicas).toBe(0);
    expect(c.modelService!.spec!.selector).toEqual({ 'modelops.dev/modelversion': 'fraud-v1' });
    expect(c.condition('fraud-v2', 'RolledBack')).toMatchObject({
      status: 'True',
      reason: 'AnalysisFailed',
      message: 'error-rate: 31 % > 1 %',
    });
    expect(c.condition('fraud-v2', 'Ready')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    expect(c.events.filter((e) => e.reason === 'RolledBack')).toEqual([
      {
        type: 'Warning',
        reason: 'RolledBack',
        message: 'error-rate: 31 % > 1 %; all traffic back on v1',
        object: 'fraud-v2',
      },
    ]);
    expect(c.status('fraud-v2').analysis!.checks[0]).toMatchObject({
      name: 'error-rate',
      value: 0.31,
      threshold: 0.01,
    });
  });

  test('a rolled-back version is quarantined: passes, re-applies and spec changes do not restart it; retry does, every time', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').phase === 'RolledBack', fail);
    for (let round = 1; round <= 20; round++) {
      c.advance(60);
      c.apply('fraud-v2', FAST); // Argo CD's sync: the same manifest
      c.run();
      c.apply('fraud-v2', { serving: { ...FAST.serving, env: [{ name: 'X', value: String(round) }] } });
      c.run();
      expect(c.summary()['fraud-v2']).toBe('RolledBack/none/0');

      c.apply('fraud-v2', {}, { 'modelops.dev/retry': `r${round}` });
      c.run();
      expect(c.status('fraud-v2')).toMatchObject({
        role: 'canary',
        rollout: { step: 0 },
        handledActions: { retry: `r${round}` },
      });
      expect(c.condition('fraud-v2', 'RolledBack')).toMatchObject({ status: 'False', reason: 'Retried' });
      c.apply('fraud-v2', {}, { 'modelops.dev/retry': `r${round}` }); // the same value again: nothing
      until(c, () => c.status('fraud-v2').phase === 'RolledBack', fail);
    }
    expect(c.eventReasons('fraud-v2').filter((r) => r === 'Retried')).toHaveLength(20);
    expect(c.events.find((e) => e.reason === 'Retried')).toEqual({
      type: 'Normal',
      reason: 'Retried',
      message: 'fraud v2 is a candidate again (modelops.dev/retry)',
      object: 'fraud-v2',
    });
    expect(c.eventReasons('fraud-v2').filter((r) => r === 'RolledBack')).toHaveLength(21);
  });

  test('a newer version applied mid-rollout supersedes the canary: zero traffic at once, and it says so', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').weight === 50);
    c.apply('fraud-v3', FAST);
    c.run();
    expect(c.summary()).toEqual({
      'fraud-v1': 'Serving/stable/100',
      'fraud-v2': 'Superseded/none/0',
      'fraud-v3': 'Deploying/canary/0',
    });
    expect(c.modelService!.spec!.selector).toEqual({ 'modelops.dev/modelversion': 'fraud-v1' });
    // Its pods drain for a moment, and go at the latest when the new canary takes its share of the pods.
    expect(c.deployments.get('fraud-v2')!.replicas).toBeGreaterThan(0);
    c.advance(5);
    c.run();
    expect(c.deployments.get('fraud-v2')!.replicas).toBe(0);
    expect(c.events.find((e) => e.reason === 'Superseded')).toMatchObject({
      type: 'Normal',
      object: 'fraud-v2',
      message: 'superseded by fraud-v3 (v3) at 50 %: its traffic went to 0',
    });
    until(c, () => c.status('fraud-v3').phase === 'Serving');
    expect(c.summary()['fraud-v2']).toBe('Superseded/none/0');
  });

  test('a superseded canary drains once, for DRAIN_MS from then; one whose pods never served goes at once; each says so once', () => {
    const gw = { serving: { ...FAST.serving, traffic: { gatewayAPI: { parentRefs: [{ name: 'inference' }] } } } };
    const c = serving(gw);
    c.apply('fraud-v2', gw);
    until(c, () => c.status('fraud-v2').weight === 50);
    c.apply('fraud-v3', gw);
    c.holdPods.add('fraud-v3');
    c.run();
    const drainUntil = c.status('fraud-v2').rollout!.drainUntil;
    expect(drainUntil).toBe(toMetaTime(new Date(c.now + DRAIN_MS)));
    for (let i = 0; i < DRAIN_MS / 1000 - 1; i++) {
      c.advance(1);
      c.run();
    }
    expect(c.status('fraud-v2').rollout!.drainUntil).toBe(drainUntil);
    expect(c.deployments.get('fraud-v2')!.replicas).toBe(2);
    c.advance(1);
    c.run();
    expect(c.deployments.get('fraud-v2')!.replicas).toBe(0);
    // fraud-v3 never had pods ready: superseded by fraud-v4, it has nothing to drain.
    c.apply('fraud-v4', gw);
    c.run();
    expect(c.status('fraud-v3')).toMatchObject({ phase: 'Superseded', rollout: { replacedBy: 'fraud-v4' } });
    expect(c.status('fraud-v3').rollout!.drainUntil).toBeUndefined();
    expect(c.deployments.get('fraud-v3')!.replicas).toBe(0);
    // A later change to a superseded version's spec is written (observedGeneration) without telling it again.
    c.apply('fraud-v2', { serving: { ...gw.serving, env: [{ name: 'X', value: '1' }] } });
    c.run();
    expect(c.eventReasons('fraud-v2').filter((r) => r === 'Superseded')).toHaveLength(1);
  });

  test('a retried version is the newest candidate from its retry on: a canary applied after it is superseded', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').phase === 'RolledBack', fail);
    c.apply('fraud-v3', FAST);
    until(c, () => c.status('fraud-v3').weight === 5);
    c.advance(1);
    c.apply('fraud-v2', {}, { 'modelops.dev/retry': 'again' });
    c.run();
    expect(c.status('fraud-v2')).toMatchObject({
      role: 'canary',
      rollout: { candidateSince: toMetaTime(new Date(c.now)) },
    });
    expect(c.status('fraud-v3')).toMatchObject({ phase: 'Superseded', rollout: { replacedBy: 'fraud-v2' } });
    until(c, () => c.status('fraud-v2').phase === 'Serving');
    expect(c.status('fraud-v3').phase).toBe('Superseded');
  });

  test('metrics unavailable: the weights hold, Degraded says why, nothing advances; past the limit it rolls back', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').rollout?.stepReachedAt !== undefined);
    c.advance(5);
    c.run(down);
    expect(c.status('fraud-v2')).toMatchObject({ phase: 'Canary', weight: 5, analysis: { verdict: 'Error' } });
    expect(c.condition('fraud-v2', 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'MetricsUnavailable',
      message: 'Prometheus http://p: unreachable',
    });
    for (let i = 0; i < 12; i++) {
      c.advance(5);
      c.run(down);
      if (c.status('fraud-v2').phase !== 'Canary') break;
      expect(c.status('fraud-v2').weight).toBe(5);
    }
    expect(c.status('fraud-v2').phase).toBe('RolledBack');
    expect(c.condition('fraud-v2', 'RolledBack')).toMatchObject({
      reason: 'MetricsUnavailable',
      message: expect.stringMatching(/^no metrics for 60 s \(limit 60 s\): Prometheus http:\/\/p: unreachable$/),
    });
  });

  test('metrics back before the limit: Degraded clears and the rollout carries on', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').rollout?.stepReachedAt !== undefined);
    c.advance(5);
    c.run(down);
    c.advance(5);
    c.run(pass);
    expect(c.condition('fraud-v2', 'Degraded')).toMatchObject({ status: 'False' });
    expect(c.status('fraud-v2').rollout!.metricsUnavailableSince).toBeUndefined();
    until(c, () => c.status('fraud-v2').phase === 'Serving');
  });

  test('no Prometheus configured: held with Degraded NoMetricsSource, never rolled back for it', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    const none: AnalysisOutcome = {
      kind: 'unavailable',
      reason: 'NoMetricsSource',
      message: 'no Prometheus: start the operator with --prometheus-url',
    };
    for (let i = 0; i < 100; i++) {
      c.advance(5);
      c.run(none);
    }
    expect(c.status('fraud-v2')).toMatchObject({ phase: 'Canary', weight: 5 });
    expect(c.condition('fraud-v2', 'Degraded')).toMatchObject({ status: 'True', reason: 'NoMetricsSource' });
  });

  test('pods that never become ready roll the canary back', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    c.holdPods.add('fraud-v2');
    c.run();
    expect(c.status('fraud-v2').phase).toBe('Deploying');
    const view: ModelView = c.view();
    const v2 = view.versions.find((v) => v.mv.metadata.name === 'fraud-v2')!;
    v2.deployment = { readyReplicas: 0, failed: 'ReplicaSet "fraud-v2-abc" has timed out progressing.' };
    const plan = decideModel(view);
    expect(plan.drafts.find((d) => d.view === v2)).toMatchObject({
      phase: 'RolledBack',
      rolledBack: { reason: 'DeploymentFailed' },
    });
  });
});

describe('manual control (C7)', () => {
  test('promote now: the canary becomes stable at once, from any step', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').weight === 5);
    c.apply('fraud-v2', {}, { 'modelops.dev/promote': '1700000000' });
    c.run(inconclusive);
    expect(c.summary()).toEqual({ 'fraud-v1': 'Retired/none/0', 'fraud-v2': 'Serving/stable/100' });
    expect(c.condition('fraud-v2', 'Promoted')).toMatchObject({ reason: 'PromotedByAction' });
    expect(c.status('fraud-v2').handledActions).toEqual({ promote: '1700000000' });
  });

  test('abort: rolled back now with the reason the annotation carries; the same value again does nothing', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').weight === 5);
    c.apply('fraud-v2', {}, { 'modelops.dev/abort': 'driftmonitor/fraud: amount PSI 0.41' });
    c.run();
    expect(c.summary()['fraud-v2']).toBe('RolledBack/none/0');
    expect(c.eventReasons('fraud-v2')).toEqual(['CanaryStarted', 'RolledBack']);
    expect(c.condition('fraud-v2', 'RolledBack')).toMatchObject({
      reason: 'Aborted',
      message: 'aborted by modelops.dev/abort: driftmonitor/fraud: amount PSI 0.41',
    });
    const events = c.events.length;
    c.run();
    expect(c.events.length).toBe(events);
  });

  test('abort with an empty value: rolled back all the same, and the message says no reason was given', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').weight === 5);
    c.apply('fraud-v2', {}, { 'modelops.dev/abort': '' });
    c.run();
    expect(c.summary()['fraud-v2']).toBe('RolledBack/none/0');
    expect(c.condition('fraud-v2', 'RolledBack')!.message).toBe('aborted by modelops.dev/abort: (no reason given)');
    expect(c.events.find((e) => e.reason === 'RolledBack')!.message).toBe(
      'aborted by modelops.dev/abort: (no reason given); all traffic back on v1',
    );
  });

  const ALL_ACTIONS = { 'modelops.dev/abort': 'x', 'modelops.dev/promote': 'y', 'modelops.dev/retry': 'z' };
  test.each<{ case: string; given: () => Cluster; on: string; actions?: Record<string, string>; ignored: string[] }>([
    {
      case: 'the stable',
      given: () => serving(),
      on: 'fraud-v1',
      ignored: [
        'modelops.dev/retry on fraud-v1 ignored: it is Serving, not rolled back, superseded or retired',
        'modelops.dev/abort on fraud-v1 ignored: it is the stable version: nothing to roll back to',
        'modelops.dev/promote on fraud-v1 ignored: it is already the stable version',
      ],
    },
    {
      case: 'a first version waiting for its pods',
      given: () => {
        const c = new Cluster();
        c.apply('fraud-v1', FAST);
        c.holdPods.add('fraud-v1');
        c.reconcile();
        return c;
      },
      on: 'fraud-v1',
      ignored: [
        'modelops.dev/retry on fraud-v1 ignored: it is Deploying, not rolled back, superseded or retired',
        'modelops.dev/abort on fraud-v1 ignored: the model has no stable version to roll back to',
        'modelops.dev/promote on fraud-v1 ignored: it becomes stable as soon as its pods are ready',
      ],
    },
    {
      case: 'a rolled-back version (retry does apply to it)',
      given: () => {
        const c = serving();
        c.apply('fraud-v2', FAST);
        until(c, () => c.status('fraud-v2').phase === 'RolledBack', fail);
        return c;
      },
      on: 'fraud-v2',
      actions: { 'modelops.dev/abort': 'x', 'modelops.dev/promote': 'y' },
      ignored: [
        'modelops.dev/abort on fraud-v2 ignored: it is RolledBack, not the canary',
        'modelops.dev/promote on fraud-v2 ignored: it is RolledBack, not the canary',
      ],
    },
    {
      case: 'a new version, retried before it ran',
      given: () => serving(),
      on: 'fraud-v2',
      actions: { 'modelops.dev/retry': 'z' },
      ignored: ['modelops.dev/retry on fraud-v2 ignored: it is Pending, not rolled back, superseded or retired'],
    },
  ])(
    'actions that do not apply are handled once, with an Event that says why: $case',
    ({ given, on, actions = ALL_ACTIONS, ignored }) => {
      const c = given();
      const before = c.summary()[on];
      c.apply(on, on === 'fraud-v2' && !c.versions.has(on) ? FAST : {}, actions);
      c.run();
      expect(c.events.filter((e) => e.reason === 'ActionIgnored').map((e) => `${e.type}: ${e.message}`)).toEqual(
        ignored.map((message) => `Normal: ${message}`),
      );
      expect(c.status(on).handledActions).toEqual(
        Object.fromEntries(Object.entries(actions).map(([k, v]) => [k.replace('modelops.dev/', ''), v])),
      );
      if (before !== undefined) expect(c.summary()[on]).toBe(before);
      c.run();
      expect(c.events.filter((e) => e.reason === 'ActionIgnored')).toHaveLength(ignored.length);
    },
  );

  test('paused holds the step (analysis goes on), resumed carries on', () => {
    const c = serving();
    const paused = { serving: { ...FAST.serving, rollout: { ...FAST.serving!.rollout, paused: true } } };
    c.apply('fraud-v2', paused);
    until(c, () => c.status('fraud-v2').phase === 'Paused');
    for (let i = 0; i < 60; i++) {
      c.advance(1);
      c.run(pass);
    }
    expect(c.status('fraud-v2')).toMatchObject({ phase: 'Paused', weight: 5 });
    expect(c.condition('fraud-v2', 'Progressing')).toMatchObject({ status: 'False', reason: 'Paused' });
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').phase === 'Serving');
    expect(c.eventReasons('fraud-v2')).toEqual(expect.arrayContaining(['Paused', 'Resumed', 'Promoted']));
  });

  test('a paused canary that fails its analysis is still rolled back', () => {
    const c = serving();
    c.apply('fraud-v2', { serving: { ...FAST.serving, rollout: { ...FAST.serving!.rollout, paused: true } } });
    until(c, () => c.status('fraud-v2').phase === 'RolledBack', fail);
  });
});

describe('experiments', () => {
  test('held at a fixed weight indefinitely, never promoted by itself', () => {
    const c = serving();
    c.apply('fraud-v2', {
      serving: { ...FAST.serving, rollout: { ...FAST.serving!.rollout, experiment: { weight: 20 } } },
    });
    for (let i = 0; i < 200; i++) {
      c.advance(5);
      c.run(pass);
    }
    expect(c.status('fraud-v2')).toMatchObject({ phase: 'Experiment', role: 'canary', weight: 20 });
    expect(c.condition('fraud-v2', 'Ready')).toMatchObject({ status: 'True' });
  });

  test('by header: the route sends requests with the header to the canary, the rest to the stable', () => {
    const gw = { traffic: { gatewayAPI: { parentRefs: [{ name: 'inference' }] } } };
    const c = serving({ serving: { ...FAST.serving, ...gw } });
    c.apply('fraud-v2', {
      serving: {
        ...FAST.serving,
        ...gw,
        rollout: { ...FAST.serving!.rollout, experiment: { header: { name: 'x-model-version', value: 'v2' } } },
      },
    });
    until(
      c,
      () => c.status('fraud-v2').phase === 'Experiment' && c.status('fraud-v2').rollout?.stepReachedAt !== undefined,
    );
    expect(c.routes.fraud!.spec.rules).toEqual([
      {
        matches: [{ headers: [{ type: 'Exact', name: 'x-model-version', value: 'v2' }] }],
        backendRefs: [{ name: 'fraud-v2', port: 80, weight: 1 }],
      },
      { backendRefs: [{ name: 'fraud-v1', port: 80, weight: 100 }] },
    ]);
    expect(c.status('fraud-v1').traffic).toMatchObject({ mechanism: 'GatewayAPI', route: 'fraud' });
    // Analysis runs on the experiment too: a failing one is rolled back.
    until(c, () => c.status('fraud-v2').phase === 'RolledBack', fail);
  });
});

describe('Gateway API', () => {
  const gw = { traffic: { gatewayAPI: { parentRefs: [{ name: 'inference' }] } } };

  test('the route carries exact weights at every step; the canary runs its own replica count', () => {
    const c = serving({ serving: { ...FAST.serving, ...gw } });
    c.apply('fraud-v2', { serving: { ...FAST.serving, ...gw } });
    const seen: string[] = [];
    until(c, () => {
      const rule = c.routes.fraud?.spec.rules?.[0];
      const weights = (rule?.backendRefs ?? []).map((b) => `${b.name}=${b.weight}`).join(',');
      if (seen.at(-1) !== weights) seen.push(weights);
      return c.status('fraud-v2').phase === 'Serving';
    });
    expect(seen).toEqual(['fraud-v1=100', 'fraud-v1=95,fraud-v2=5', 'fraud-v1=50,fraud-v2=50', 'fraud-v2=100']);
    expect(c.deployments.get('fraud-v2')!.replicas).toBe(2);
    expect(c.modelService!.spec!.selector).toEqual({ 'modelops.dev/modelversion': 'fraud-v2' });
  });

  test('without the Gateway API CRDs: the stable serves by its Service, the canary is held at 0 with a clear condition', () => {
    const c = new Cluster();
    c.gatewayApi = false;
    c.apply('fraud-v1', { serving: { ...FAST.serving, ...gw } });
    c.reconcile();
    c.reconcile();
    expect(c.summary()['fraud-v1']).toBe('Serving/stable/100');
    const unavailable = (name: string) =>
      `${name} asks for traffic.gatewayAPI but the cluster does not serve HTTPRoutes (gateway.networking.k8s.io/v1): install the Gateway API CRDs or remove gatewayAPI to split by replica ratio`;
    expect(c.condition('fraud-v1', 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'GatewayAPIUnavailable',
      message: unavailable('fraud-v1'),
    });
    c.apply('fraud-v2', { serving: { ...FAST.serving, ...gw } });
    let plan = c.run();
    for (let i = 0; i < 30; i++) {
      c.advance(5);
      plan = c.run();
    }
    expect(c.status('fraud-v2')).toMatchObject({ phase: 'Canary', weight: 0 });
    expect(c.condition('fraud-v2', 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'GatewayAPIUnavailable',
      message: `held at 0 %: ${unavailable('fraud-v2')}`,
    });
    expect(c.condition('fraud-v2', 'Degraded')!.message).toBe(unavailable('fraud-v2'));
    // Held with no analysis to run: the safety net wakes it.
    expect(plan.requeueAfterMs).toBe(300_000);
    // A version that no longer serves, or that does not ask for Gateway API, is not degraded by it.
    c.apply('fraud-v3', FAST);
    plan = c.run();
    expect(draftOf(plan, 'fraud-v2')).toMatchObject({ phase: 'Superseded' });
    expect(draftOf(plan, 'fraud-v2')!.degraded).toBeUndefined();
    expect(draftOf(plan, 'fraud-v3')!.degraded).toBeUndefined();
  });

  test('a rolled-back Gateway API canary leaves a stable without gatewayAPI: the owned route goes', () => {
    const c = serving();
    c.apply('fraud-v2', { serving: { ...FAST.serving, ...gw } });
    until(c, () => c.routes.fraud !== undefined);
    c.routes.fraud!.metadata.labels = { 'app.kubernetes.io/managed-by': 'modelops' };
    until(c, () => c.status('fraud-v2').phase === 'RolledBack', fail);
    // The pass that rolls back sends everything to the stable by the route it has; the next one drops it.
    expect(c.routes.fraud!.spec.rules).toEqual([{ backendRefs: [{ name: 'fraud-v1', port: 80, weight: 100 }] }]);
    c.run();
    expect(c.routes.fraud).toBeUndefined();
  });
});

describe('the order the API server lists versions in', () => {
  test('by name, not by age: the newest version is the canary and supersedes the older one', () => {
    const c = new Cluster();
    c.listByName = true;
    c.apply('fraud-a', FAST);
    c.reconcile();
    c.reconcile();
    c.apply('fraud-c', FAST);
    c.run();
    expect(c.status('fraud-a')).toMatchObject({ phase: 'Serving', role: 'stable', weight: 100 });
    expect(c.status('fraud-c')).toMatchObject({ role: 'canary' });
    // fraud-b is listed before fraud-c, but applied after it.
    c.apply('fraud-b', FAST);
    c.run();
    expect(c.status('fraud-c')).toMatchObject({ phase: 'Superseded' });
    expect(c.status('fraud-b')).toMatchObject({ role: 'canary' });
  });
});

describe('Gateway API: an existing HTTPRoute', () => {
  const byRoute = { traffic: { gatewayAPI: { httpRoute: 'public' } } };
  const publicRoute = (): HTTPRoute => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'public', namespace: 'ml' },
    spec: {
      parentRefs: [{ name: 'edge' }],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/docs' } }], backendRefs: [{ name: 'docs', port: 80 }] },
        { backendRefs: [{ name: 'fraud', port: 80 }] },
      ],
    },
  });

  test('named but missing: Degraded says so; once it exists, its rule for the model carries the weights', () => {
    const c = serving({ serving: { ...FAST.serving, ...byRoute } });
    expect(c.summary()['fraud-v1']).toBe('Serving/stable/100');
    expect(c.condition('fraud-v1', 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'HTTPRouteNotFound',
      message: 'HTTPRoute public named by traffic.gatewayAPI.httpRoute does not exist',
    });
    c.routes.public = publicRoute();
    c.run();
    expect(c.condition('fraud-v1', 'Degraded')).toMatchObject({ status: 'False' });
    expect(c.routes.public!.spec.rules).toEqual([
      publicRoute().spec.rules![0],
      { backendRefs: [{ name: 'fraud-v1', port: 80, weight: 100 }] },
    ]);
    c.apply('fraud-v2', { serving: { ...FAST.serving, ...byRoute } });
    until(c, () => c.status('fraud-v2').phase === 'Serving');
    expect(c.routes.public!.spec.rules![1]).toEqual({ backendRefs: [{ name: 'fraud-v2', port: 80, weight: 100 }] });
    expect(c.routes.fraud).toBeUndefined();
  });
});

describe('versions coming and going', () => {
  test('deleting the canary mid-rollout returns all traffic to stable before its finalizer goes', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').weight === 50);
    c.delete('fraud-v2');
    const plan = c.run();
    expect(plan.deleting.map((d) => d.view.mv.metadata.name)).toEqual(['fraud-v2']);
    expect(plan.routing!.split.canary).toBeUndefined();
    expect(c.modelService!.spec!.selector).toEqual({ 'modelops.dev/modelversion': 'fraud-v1' });
    // It keeps its finalizer while its pods drain what the proxies still send, then goes.
    expect(c.status('fraud-v2').rollout?.drainUntil).toBeDefined();
    // ... and the pass wakes when the drain ends, not at the next unrelated event.
    expect(plan.requeueAfterMs).toBeLessThanOrEqual(DRAIN_MS);
    c.advance(DRAIN_MS / 1000);
    c.run();
    expect(c.summary()).toEqual({ 'fraud-v1': 'Serving/stable/100' });
  });

  test('deleting the only version removes the model’s routing', () => {
    const c = serving();
    c.delete('fraud-v1');
    const plan = c.run();
    expect(plan.routing).toBeUndefined();
    expect(c.modelService).toBeUndefined();
  });

  test('deleting the stable mid-rollout makes the canary the stable (nothing else can serve)', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').weight === 5);
    c.delete('fraud-v1');
    c.run();
    c.advance(DRAIN_MS / 1000);
    c.run();
    expect(c.summary()).toEqual({ 'fraud-v2': 'Serving/stable/100' });
    expect(c.condition('fraud-v2', 'Promoted')).toMatchObject({ reason: 'StableRemoved' });
  });

  test('a second ModelVersion of the same version fails: the metrics could not tell them apart', () => {
    const c = serving();
    c.apply('fraud-copy', { ...FAST, version: 'v1' });
    c.run();
    expect(c.summary()['fraud-copy']).toBe('Failed/none/0');
    expect(c.condition('fraud-copy', 'Degraded')).toMatchObject({
      reason: 'DuplicateVersion',
      message: 'version v1 of fraud is already ModelVersion fraud-v1; the serving metrics could not tell them apart',
    });
    expect(c.events.filter((e) => e.reason === 'DuplicateVersion')).toHaveLength(1);
    c.run();
    // A change to its spec is written (observedGeneration) without the Warning again.
    c.apply('fraud-copy', { serving: { ...FAST.serving, env: [{ name: 'X', value: '1' }] } });
    c.run();
    expect(c.events.filter((e) => e.reason === 'DuplicateVersion')).toHaveLength(1);
  });

  test('a duplicate of a version that is retried later stays the one that failed (the first created keeps the version)', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').phase === 'RolledBack', fail);
    c.apply('fraud-v2-copy', { ...FAST, version: 'v2' });
    c.run();
    expect(c.summary()['fraud-v2-copy']).toBe('Failed/none/0');
    c.advance(1);
    c.apply('fraud-v2', {}, { 'modelops.dev/retry': 'again' });
    until(c, () => c.status('fraud-v2').phase === 'Serving');
    expect(c.summary()['fraud-v2-copy']).toBe('Failed/none/0');
  });

  test('a name taken by an object it does not own: Failed with NameConflict; the model Service’s: Degraded', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    const view: ModelView = c.view();
    view.versions.push({ mv: modelVersion('fraud-v0', FAST, { phase: 'Retired', role: 'none' }) });
    view.versions.find((v) => v.mv.metadata.name === 'fraud-v2')!.conflict =
      'Deployment fraud-v2 exists and is not owned by this ModelVersion';
    view.modelServiceConflict = 'Service fraud exists and was not made by modelops';
    const plan = decideModel(view);
    const [v0, v1, v2] = plan.drafts;
    // A version that no longer serves is not degraded by it.
    expect(v0).toMatchObject({ phase: 'Retired' });
    expect(v0!.degraded).toBeUndefined();
    expect(v2).toMatchObject({ phase: 'Failed', degraded: { reason: 'NameConflict' } });
    expect(v2!.events).toEqual([
      {
        type: 'Warning',
        reason: 'NameConflict',
        message: 'Deployment fraud-v2 exists and is not owned by this ModelVersion',
      },
    ]);
    expect(v1).toMatchObject({
      phase: 'Serving',
      degraded: { reason: 'NameConflict', message: 'Service fraud exists and was not made by modelops' },
    });
  });

  test('two stables after a crash between the writes of a promotion: the one promoted last stays', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    until(c, () => c.status('fraud-v2').phase === 'Serving');
    // Undo the old stable's write, as if the operator died before it.
    const v1 = c.versions.get('fraud-v1')!;
    c.versions.set('fraud-v1', { ...v1, status: { ...v1.status, phase: 'Serving', role: 'stable' } });
    c.run();
    expect(c.summary()).toEqual({ 'fraud-v1': 'Retired/none/0', 'fraud-v2': 'Serving/stable/100' });
  });

  test('two versions applied together to an empty model: the newer serves, the older is superseded', () => {
    const c = new Cluster();
    c.apply('fraud-v1', FAST);
    c.apply('fraud-v2', FAST);
    c.reconcile();
    c.reconcile();
    expect(c.summary()).toEqual({ 'fraud-v1': 'Superseded/none/0', 'fraud-v2': 'Serving/stable/100' });
    // It never was the canary: no weight to tell.
    expect(c.events.find((e) => e.reason === 'Superseded')!.message).toBe(
      'superseded by fraud-v2 (v2): its traffic went to 0',
    );
  });
});

describe('one pass over versions as they stand', () => {
  const retired: Found = {
    name: 'fraud-v0',
    created: 0,
    status: { phase: 'Retired', role: 'none', rollout: { retiredAt: at(85), replacedBy: 'fraud-v1' } },
  };
  const rolledBack: Found = {
    name: 'fraud-v0',
    created: 0,
    status: { phase: 'RolledBack', role: 'none', replicas: 2, rollout: { drainUntil: at(120) } },
  };
  const gw = GW;
  const scaleDownDelay = (seconds: number): Partial<ModelVersionSpec> => ({
    serving: { ...FAST.serving, rollout: { ...FAST.serving!.rollout, scaleDownDelaySeconds: seconds } },
  });
  test.each<{ case: string; found: Found[]; expected: Record<string, object> }>([
    {
      case: "a retired version keeps its pods for its successor's scaleDownDelaySeconds (20 s)",
      found: [
        { ...retired, spec: scaleDownDelay(5) },
        { ...SERVING_V1, spec: scaleDownDelay(20) },
      ],
      expected: { 'fraud-v0': { phase: 'Retired', weight: 0, replicas: 2 } },
    },
    {
      case: 'a retired stable its HPA had grown (no replicas in its status) keeps the pods the HPA made, not its spec',
      found: [
        {
          ...retired,
          spec: { serving: { ...FAST.serving, replicas: 2, autoscaling: { maxReplicas: 10 } } },
          ready: 6,
          asked: 7,
        },
        SERVING_V1,
      ],
      expected: { 'fraud-v0': { phase: 'Retired', weight: 0, replicas: 7, autoscaler: false } },
    },
    {
      case: "a retired version's pods go when its successor's scaleDownDelaySeconds (15 s) is over, not its own",
      found: [retired, { ...SERVING_V1, spec: scaleDownDelay(15) }],
      expected: { 'fraud-v0': { phase: 'Retired', replicas: 0 } },
    },
    {
      case: 'a retired version whose successor gives no rollout spec: the default scaleDownDelaySeconds (30 s)',
      found: [retired, { ...SERVING_V1, spec: { serving: { replicas: 2 } } }],
      expected: { 'fraud-v0': { phase: 'Retired', replicas: 2 } },
    },
    {
      case: 'a retired version whose successor gives no serving spec: the default scaleDownDelaySeconds (30 s)',
      found: [retired, { ...SERVING_V1, spec: {} }],
      expected: { 'fraud-v0': { phase: 'Retired', replicas: 2 } },
    },
    {
      case: 'a retired version whose successor is being deleted: the default scaleDownDelaySeconds (30 s)',
      found: [retired, { ...SERVING_V1, spec: scaleDownDelay(5), deleting: true }],
      expected: { 'fraud-v0': { phase: 'Retired', replicas: 2 } },
    },
    {
      case: 'a retired version keeps its pods while a Gateway API canary takes traffic (the route, not the pods, splits)',
      found: [
        { ...retired, spec: gw },
        { ...SERVING_V1, spec: gw },
        { ...canaryAt({ stepReachedAt: at(95) }), spec: gw },
      ],
      expected: { 'fraud-v0': { phase: 'Retired', replicas: 2 } },
    },
    {
      case: 'a rolled-back version drains its pods while a Gateway API canary takes traffic',
      found: [
        { ...rolledBack, spec: gw },
        { ...SERVING_V1, spec: gw },
        { ...canaryAt({ stepReachedAt: at(95) }), spec: gw },
      ],
      expected: { 'fraud-v0': { phase: 'RolledBack', replicas: 2 } },
    },
    {
      case: 'a rolled-back version drops its pods at once when a replica-ratio canary takes traffic',
      found: [rolledBack, SERVING_V1, canaryAt({ stepReachedAt: at(95) })],
      expected: { 'fraud-v0': { phase: 'RolledBack', replicas: 0 } },
    },
    {
      case: 'a canary superseded with a promote pending (its pods were not ready): the action is handled with it',
      found: [
        SERVING_V1,
        {
          ...canaryAt({}, { phase: 'Deploying', weight: 0 }),
          ready: 0,
          annotations: { 'modelops.dev/promote': 'now' },
        },
        { name: 'fraud-v3', created: 20 },
      ],
      expected: { 'fraud-v2': { phase: 'Superseded', handled: { promote: 'now' }, pending: {} } },
    },
    {
      case: 'a retired version whose pods a replica-ratio canary took keeps none when the canary is gone',
      found: [{ ...retired, status: { ...retired.status, replicas: 0 } }, SERVING_V1],
      expected: { 'fraud-v0': { phase: 'Retired', replicas: 0 } },
    },
    {
      case: 'a retired version drops its pods at once when a replica-ratio canary takes traffic',
      found: [retired, SERVING_V1, canaryAt({ stepReachedAt: at(95) })],
      expected: { 'fraud-v0': { phase: 'Retired', replicas: 0 } },
    },
    {
      case: 'the stable next to a canary at 5 %: 95 % and its own pods; only a Serving version gets an autoscaler',
      found: [SERVING_V1, canaryAt({ stepReachedAt: at(95) })],
      expected: {
        'fraud-v1': { phase: 'Serving', role: 'stable', weight: 95, replicas: 2, autoscaler: false },
        'fraud-v2': { phase: 'Canary', role: 'canary', weight: 5, replicas: 1, autoscaler: false },
      },
    },
    {
      case: 'an autoscaled stable: its HPA sizes it, and the canary is sized against the pods it made',
      found: [
        { ...SERVING_V1, spec: { serving: { ...FAST.serving, autoscaling: { maxReplicas: 10 } } }, ready: 6 },
        canaryAt({ step: 1, stepReachedAt: at(95) }, { weight: 50 }),
      ],
      expected: {
        'fraud-v1': { phase: 'Serving', weight: 50, replicas: 'autoscaled', autoscaler: true },
        'fraud-v2': { phase: 'Canary', weight: 50, replicas: 6, autoscaler: false },
      },
    },
    {
      case: 'a first version whose pods are ready at its first pass: stable at once',
      found: [{ name: 'fraud-v1', ready: 2 }],
      expected: {
        'fraud-v1': { phase: 'Serving', role: 'stable', weight: 100, promoted: { reason: 'FirstVersion' } },
      },
    },
    {
      case: 'a status that records no role reads as none',
      found: [SERVING_V1, { name: 'fraud-v2', created: 10, status: { phase: 'RolledBack' } }],
      expected: { 'fraud-v2': { phase: 'RolledBack', role: 'none', weight: 0, replicas: 0 } },
    },
    {
      case: 'a Failed version is never the stable, whatever role its status records',
      found: [
        { ...SERVING_V1, status: { ...SERVING_V1.status, phase: 'Failed' } },
        { name: 'fraud-v2', created: 10, ready: 1 },
      ],
      expected: {
        'fraud-v1': { phase: 'Failed', weight: 0, replicas: 0 },
        'fraud-v2': { phase: 'Serving', role: 'stable', weight: 100 },
      },
    },
    {
      case: 'two stables, the older promoted last: it stays (the promotion decides, not the age)',
      found: [
        { ...SERVING_V1, status: { ...SERVING_V1.status, rollout: { promotedAt: at(50) } } },
        {
          ...SERVING_V1,
          name: 'fraud-v2',
          created: 10,
          status: { ...SERVING_V1.status, rollout: { promotedAt: at(20) } },
        },
      ],
      expected: {
        'fraud-v1': { phase: 'Serving', role: 'stable' },
        'fraud-v2': { phase: 'Retired', role: 'none', rollout: { replacedBy: 'fraud-v1' } },
      },
    },
  ])('$case', ({ found, expected }) => {
    const plan = decideModel(foundView(found));
    for (const [name, draft] of Object.entries(expected)) expect(draftOf(plan, name)).toMatchObject(draft);
  });

  const lastAnalysis = (verdict: NonNullable<ModelVersionStatus['analysis']>['verdict'], seconds: number) => ({
    analysis: { time: at(seconds), verdict, windowSeconds: 10, message: `${verdict} at ${seconds} s`, checks: [] },
  });
  const paused = { serving: { ...FAST.serving, rollout: { ...FAST.serving!.rollout, paused: true } } };
  const defaultPause = {
    serving: { ...FAST.serving, rollout: { ...FAST.serving!.rollout, steps: [{ weight: 10 }, { weight: 100 }] } },
  };
  test.each<{
    case: string;
    canary: Found;
    outcome?: AnalysisOutcome;
    expected: object;
    events?: PendingEvent[];
    requeueAfterMs?: number;
  }>([
    {
      case: 'its pods not ready yet',
      canary: { ...canaryAt({}, { phase: 'Deploying', weight: 0 }), ready: 0 },
      expected: {
        phase: 'Deploying',
        progressing: { status: 'True', reason: 'Deploying', message: "waiting for the canary's pods: 0/1 ready" },
      },
    },
    {
      case: 'its split not in place yet',
      canary: canaryAt({}),
      expected: {
        phase: 'Canary',
        progressing: { status: 'True', reason: 'ShiftingTraffic', message: 'step 1 of 3: 5 %; shifting traffic' },
      },
    },
    {
      case: 'its step reached, no analysis yet',
      canary: canaryAt({ stepReachedAt: at(95) }),
      expected: {
        progressing: { status: 'True', reason: 'Analysing', message: 'step 1 of 3: 5 %; waiting for an analysis' },
      },
    },
    {
      case: 'its pause over to the second and its step passed: the next step',
      canary: canaryAt({ stepReachedAt: at(90), stepVerdict: 'Pass' }, lastAnalysis('Pass', 98)),
      expected: {
        phase: 'Canary',
        rollout: { step: 1 },
        progressing: { status: 'True', reason: 'ShiftingTraffic', message: 'step 2 of 3: 50 %; shifting traffic' },
      },
      events: [{ type: 'Normal', reason: 'StepAdvanced', message: 'step 2 of 3: 50 %' }],
    },
    {
      case: 'its step passed but metrics unavailable since: held',
      canary: canaryAt(
        { stepReachedAt: at(80), stepVerdict: 'Pass', metricsUnavailableSince: at(95) },
        lastAnalysis('Error', 95),
      ),
      expected: {
        rollout: { step: 0 },
        progressing: { reason: 'Analysing', message: 'step 1 of 3: 5 %; analysis Pass' },
        degraded: { reason: 'MetricsUnavailable', message: 'Error at 95 s' },
      },
    },
    {
      case: 'metrics unavailable since, no analysis recorded, Degraded by no metrics source: it stays so',
      canary: canaryAt(
        { stepReachedAt: at(80), metricsUnavailableSince: at(95) },
        {
          conditions: [
            { type: 'Degraded', status: 'True', reason: 'NoMetricsSource', message: 'x', lastTransitionTime: at(95) },
          ],
        },
      ),
      expected: { degraded: { reason: 'NoMetricsSource', message: 'metrics unavailable' } },
    },
    {
      case: 'whose spec gives no rollout: the default steps',
      canary: { ...canaryAt({ stepReachedAt: at(95) }), spec: { serving: { replicas: 2 } } },
      expected: { rollout: { step: 0, steps: 4 }, weight: 5 },
    },
    {
      case: 'an experiment by header',
      canary: {
        ...canaryAt({ stepReachedAt: at(95) }, { weight: 0 }),
        spec: {
          serving: {
            ...GW.serving,
            rollout: { ...FAST.serving!.rollout, experiment: { header: { name: 'x-model-version', value: 'v2' } } },
          },
        },
      },
      expected: {
        phase: 'Experiment',
        weight: 0,
        progressing: {
          status: 'False',
          reason: 'Experiment',
          message: 'held as an experiment (requests with x-model-version: v2); modelops.dev/promote ends it',
        },
      },
    },
    {
      case: 'new, and aborted before it ran: rolled back with no pods to drain',
      canary: { name: 'fraud-v2', created: 10, annotations: { 'modelops.dev/abort': 'x' } },
      expected: { phase: 'RolledBack', replicas: 0, rolledBack: { reason: 'Aborted' } },
      events: [
        {
          type: 'Normal',
          reason: 'CanaryStarted',
          message: 'rolling out v2 against stable v1 by replica ratio: steps 5 → 50 → 100 %',
        },
        { type: 'Warning', reason: 'RolledBack', message: 'aborted by modelops.dev/abort: x; all traffic back on v1' },
      ],
    },
    {
      case: 'its last step passed: the stable version',
      canary: canaryAt({ step: 2, stepReachedAt: at(90), stepVerdict: 'Pass' }, { weight: 100 }),
      expected: {
        phase: 'Serving',
        role: 'stable',
        promoted: {
          reason: 'AnalysisPassed',
          message: 'fraud v2 passed every step and is the stable version (was v1)',
        },
      },
      events: [
        {
          type: 'Normal',
          reason: 'Promoted',
          message: 'fraud v2 passed every step and is the stable version (was v1)',
        },
      ],
    },
    {
      case: 'a step without pauseSeconds pauses the default 60 s',
      canary: { ...canaryAt({ stepReachedAt: at(45), stepVerdict: 'Pass' }), spec: defaultPause },
      expected: {
        rollout: { step: 0 },
        progressing: { reason: 'Analysing', message: 'step 1 of 2: 10 %; analysis Pass' },
      },
    },
    {
      case: 'a recorded step past the last one (the spec lost steps): the last',
      canary: canaryAt({ step: 7, stepReachedAt: at(95) }),
      expected: { weight: 100, rollout: { step: 2, steps: 3 } },
    },
    {
      case: 'paused',
      canary: { ...canaryAt({ stepReachedAt: at(95) }), spec: paused },
      expected: {
        phase: 'Paused',
        progressing: {
          status: 'False',
          reason: 'Paused',
          message: 'paused at step 1 of 3: 5 % (spec.serving.rollout.paused)',
        },
      },
      events: [{ type: 'Normal', reason: 'Paused', message: 'paused at step 1 of 3: 5 %' }],
    },
    {
      case: 'paused already: no second Event',
      canary: { ...canaryAt({ stepReachedAt: at(95) }, { phase: 'Paused' }), spec: paused },
      expected: { phase: 'Paused' },
    },
    {
      case: 'resumed',
      canary: canaryAt({ stepReachedAt: at(95) }, { phase: 'Paused' }),
      expected: { phase: 'Canary' },
      events: [{ type: 'Normal', reason: 'Resumed', message: 'resumed at step 1 of 3: 5 %' }],
    },
    {
      case: 'an experiment by weight',
      canary: {
        ...canaryAt({ stepReachedAt: at(95), stepVerdict: 'Pass' }, { weight: 20 }),
        spec: { serving: { ...FAST.serving, rollout: { ...FAST.serving!.rollout, experiment: { weight: 20 } } } },
      },
      expected: {
        phase: 'Experiment',
        weight: 20,
        progressing: {
          status: 'False',
          reason: 'Experiment',
          message: 'held as an experiment (20 % of requests); modelops.dev/promote ends it',
        },
      },
    },
    {
      case: 'a new canary: it says how it will go',
      canary: { name: 'fraud-v2', created: 10, ready: 0 },
      expected: {
        phase: 'Deploying',
        role: 'canary',
        rollout: { step: 0, steps: 3, consecutiveFailures: 0, candidateSince: at(10) },
      },
      events: [
        {
          type: 'Normal',
          reason: 'CanaryStarted',
          message: 'rolling out v2 against stable v1 by replica ratio: steps 5 → 50 → 100 %',
        },
      ],
    },
    {
      case: 'its Deployment failed',
      canary: {
        ...canaryAt({ stepReachedAt: at(95) }),
        ready: 0,
        failed: 'ReplicaSet "fraud-v2-abc" has timed out progressing.',
      },
      expected: {
        phase: 'RolledBack',
        rolledBack: {
          reason: 'DeploymentFailed',
          message: `the canary's pods never became ready: ReplicaSet "fraud-v2-abc" has timed out progressing.`,
        },
      },
      events: [
        {
          type: 'Warning',
          reason: 'RolledBack',
          message: `the canary's pods never became ready: ReplicaSet "fraud-v2-abc" has timed out progressing.; all traffic back on v1`,
        },
      ],
    },
    {
      case: 'promoted by the action once its pods are ready',
      canary: { ...canaryAt({ stepReachedAt: at(95) }), annotations: { 'modelops.dev/promote': 'now' } },
      expected: {
        phase: 'Serving',
        role: 'stable',
        promoted: {
          reason: 'PromotedByAction',
          message: 'fraud v2 promoted by modelops.dev/promote (was at 5 %; stable was v1)',
        },
      },
      events: [
        {
          type: 'Normal',
          reason: 'Promoted',
          message: 'fraud v2 promoted by modelops.dev/promote (was at 5 %; stable was v1)',
        },
      ],
    },
    {
      case: "an analysis while the split is not in place: recorded, not the step's verdict",
      canary: canaryAt({}),
      outcome: measured(pass),
      expected: {
        analysis: { verdict: 'Pass' },
        rollout: expect.not.objectContaining({ stepVerdict: expect.anything() }) as object,
      },
    },
    {
      case: 'a second failure at failureLimit 2: rolled back',
      canary: canaryAt({ stepReachedAt: at(80), consecutiveFailures: 1 }),
      outcome: measured(fail),
      expected: {
        phase: 'RolledBack',
        rolledBack: { reason: 'AnalysisFailed', message: 'error-rate: 31 % > 1 %' },
      },
      events: [{ type: 'Warning', reason: 'RolledBack', message: 'error-rate: 31 % > 1 %; all traffic back on v1' }],
    },
    {
      case: 'an Inconclusive analysis keeps the failure count',
      canary: canaryAt({ stepReachedAt: at(80), consecutiveFailures: 1 }),
      outcome: measured(inconclusive),
      expected: { phase: 'Canary', rollout: { consecutiveFailures: 1, stepVerdict: 'Inconclusive' } },
    },
    {
      case: 'metrics unavailable for 59 s of a 60 s limit: held (the last checks kept), woken at the limit',
      canary: canaryAt(
        { stepReachedAt: at(30), metricsUnavailableSince: at(41) },
        { analysis: { ...lastAnalysis('Fail', 30).analysis, checks: fail.checks } },
      ),
      outcome: down,
      expected: {
        phase: 'Canary',
        rollout: { metricsUnavailableSince: at(41), stepVerdict: 'Error' },
        analysis: {
          verdict: 'Error',
          message: 'Prometheus http://p: unreachable',
          windowSeconds: 10,
          time: at(100),
          checks: fail.checks,
        },
        degraded: { reason: 'MetricsUnavailable', message: 'Prometheus http://p: unreachable' },
      },
      requeueAfterMs: 1000,
    },
    {
      case: 'metrics unavailable at its first analysis, its split not in place: no checks, no step verdict',
      canary: canaryAt({}),
      outcome: down,
      expected: {
        analysis: { verdict: 'Error', checks: [] },
        rollout: expect.not.objectContaining({ stepVerdict: expect.anything() }) as object,
        degraded: { reason: 'MetricsUnavailable', message: 'Prometheus http://p: unreachable' },
      },
    },
    {
      case: 'no metrics source: held and analysing, never rolled back for it',
      canary: canaryAt({ stepReachedAt: at(30) }),
      outcome: { kind: 'unavailable', reason: 'NoMetricsSource', message: 'no Prometheus' },
      expected: {
        phase: 'Canary',
        progressing: { reason: 'Analysing', message: 'step 1 of 3: 5 %; analysis Error' },
        degraded: { reason: 'NoMetricsSource', message: 'no Prometheus' },
      },
    },
    {
      case: 'metrics unavailable since, Degraded no longer: the reason is MetricsUnavailable again',
      canary: canaryAt(
        { stepReachedAt: at(80), metricsUnavailableSince: at(95) },
        {
          conditions: [
            { type: 'Ready', status: 'True', reason: 'Serving', message: 'x', lastTransitionTime: at(95) },
            { type: 'Degraded', status: 'False', reason: 'Recovered', message: 'x', lastTransitionTime: at(95) },
          ],
        },
      ),
      expected: { degraded: { reason: 'MetricsUnavailable', message: 'metrics unavailable' } },
    },
    {
      case: 'its first step needs 2 pods and 1 is ready',
      canary: {
        ...canaryAt({}, { phase: 'Deploying', weight: 0 }),
        spec: {
          serving: { ...FAST.serving, rollout: { ...FAST.serving!.rollout, steps: [{ weight: 50 }, { weight: 100 }] } },
        },
      },
      expected: {
        phase: 'Deploying',
        progressing: { status: 'True', reason: 'Deploying', message: "waiting for the canary's pods: 1/2 ready" },
      },
    },
    {
      case: 'routed, and its pods lost: it stays at its step (the router decides how much it serves)',
      canary: { ...canaryAt({ stepReachedAt: at(95) }), ready: 0 },
      expected: { phase: 'Canary', weight: 5 },
    },
    {
      case: 'new, with a promote pending and its pods ready: stable at once',
      canary: { name: 'fraud-v2', created: 10, ready: 1, annotations: { 'modelops.dev/promote': 'now' } },
      expected: {
        phase: 'Serving',
        promoted: { message: 'fraud v2 promoted by modelops.dev/promote (was at 0 %; stable was v1)' },
      },
      events: [
        {
          type: 'Normal',
          reason: 'CanaryStarted',
          message: 'rolling out v2 against stable v1 by replica ratio: steps 5 → 50 → 100 %',
        },
        {
          type: 'Normal',
          reason: 'Promoted',
          message: 'fraud v2 promoted by modelops.dev/promote (was at 0 %; stable was v1)',
        },
      ],
    },
    {
      case: 'new, by Gateway API: it says so',
      canary: { name: 'fraud-v2', created: 10, ready: 0, spec: GW },
      expected: { phase: 'Deploying' },
      events: [
        {
          type: 'Normal',
          reason: 'CanaryStarted',
          message: 'rolling out v2 against stable v1 by Gateway API route weights: steps 5 → 50 → 100 %',
        },
      ],
    },
    {
      case: 'new, an experiment by weight: it says so',
      canary: {
        name: 'fraud-v2',
        created: 10,
        ready: 0,
        spec: { serving: { ...FAST.serving, rollout: { ...FAST.serving!.rollout, experiment: { weight: 20 } } } },
      },
      expected: { phase: 'Deploying' },
      events: [
        {
          type: 'Normal',
          reason: 'CanaryStarted',
          message: 'rolling out v2 against stable v1 by replica ratio: an experiment (20 % of requests)',
        },
      ],
    },
  ])('a canary $case', ({ canary, outcome, expected, events = [], requeueAfterMs }) => {
    const plan = decideModel(foundView([SERVING_V1, canary]), outcome);
    const d = draftOf(plan, 'fraud-v2')!;
    expect(d).toMatchObject(expected);
    if (!('degraded' in expected)) expect(d.degraded).toBeUndefined();
    expect(d.events).toEqual(events);
    if (requeueAfterMs !== undefined) expect(plan.requeueAfterMs).toBe(requeueAfterMs);
  });

  test.each(['RolledBack', 'Superseded', 'Retired'] as const)('retry makes a %s version a candidate again', (phase) => {
    const plan = decideModel(
      foundView([
        SERVING_V1,
        {
          name: 'fraud-v2',
          created: 10,
          status: { phase, role: 'none' },
          ready: 0,
          annotations: { 'modelops.dev/retry': 'r' },
        },
      ]),
    );
    expect(draftOf(plan, 'fraud-v2')).toMatchObject({
      role: 'canary',
      retried: true,
      handled: { retry: 'r' },
      rollout: { candidateSince: at(100) },
    });
    expect(draftOf(plan, 'fraud-v2')!.events[0]).toEqual({
      type: 'Normal',
      reason: 'Retried',
      message: 'fraud v2 is a candidate again (modelops.dev/retry)',
    });
  });

  test.each<{ case: string; status?: ModelVersionStatus; until: string; requeueAfterMs?: number }>([
    {
      case: 'a canary at 5 %',
      status: { phase: 'Canary', role: 'canary', weight: 5 },
      until: at(130),
      requeueAfterMs: DRAIN_MS,
    },
    {
      case: 'the stable at 0 % (its canary at the last step)',
      status: { phase: 'Serving', role: 'stable', weight: 0 },
      until: at(130),
      requeueAfterMs: DRAIN_MS,
    },
    {
      case: 'an experiment by header (0 %, its split in place)',
      status: { phase: 'Experiment', role: 'canary', weight: 0, rollout: { stepReachedAt: at(50) } },
      until: at(130),
      requeueAfterMs: DRAIN_MS,
    },
    {
      case: 'one whose drain end is recorded',
      status: { phase: 'RolledBack', role: 'none', weight: 0, rollout: { drainUntil: at(110) } },
      until: at(110),
      requeueAfterMs: 10_000,
    },
    {
      case: 'a canary whose pods never got ready: at once',
      status: { phase: 'Deploying', role: 'canary', weight: 0 },
      until: at(100),
    },
    { case: 'a version with no status yet: at once', until: at(100) },
  ])('a deleted version drains only if it had traffic: $case', ({ status, until, requeueAfterMs }) => {
    const plan = decideModel(
      foundView([SERVING_V1, { name: 'fraud-v2', created: 10, deleting: true, ...(status ? { status } : {}) }]),
    );
    expect(plan.deleting.map((d) => [d.view.mv.metadata.name, d.until])).toEqual([['fraud-v2', until]]);
    expect(plan.requeueAfterMs).toBe(requeueAfterMs);
  });

  test.each<{ case: string; labels?: Record<string, string>; deleted: boolean }>([
    { case: 'made by modelops', labels: { 'app.kubernetes.io/managed-by': 'modelops' }, deleted: true },
    { case: 'made by another manager', labels: { 'app.kubernetes.io/managed-by': 'argocd' }, deleted: false },
    { case: 'without labels', deleted: false },
  ])(
    'an HTTPRoute named as the model that no longer routes it goes only if modelops made it: $case',
    ({ labels, deleted }) => {
      const view = foundView([SERVING_V1]);
      view.routes.fraud = {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'fraud', namespace: 'ml', ...(labels ? { labels } : {}) },
        spec: { rules: [{ backendRefs: [{ name: 'fraud-v1', port: 80 }] }] },
      };
      expect(decideModel(view).deleteOwnedRoute).toBe(deleted);
    },
  );

  test.each<{ case: string; found: Found[]; requeueAfterMs: number }>([
    {
      case: 'a first version waiting for its pods: the safety net',
      found: [{ name: 'fraud-v1', ready: 0 }],
      requeueAfterMs: 300_000,
    },
    {
      case: 'a canary waiting for its pods: the safety net',
      found: [SERVING_V1, { ...canaryAt({}, { phase: 'Deploying', weight: 0 }), ready: 0 }],
      requeueAfterMs: 300_000,
    },
    {
      case: 'a step whose pause ends before the next analysis: the pause end',
      found: [
        SERVING_V1,
        canaryAt(
          { stepReachedAt: at(91) },
          { analysis: { time: at(99), verdict: 'Pass', windowSeconds: 10, message: '', checks: [] } },
        ),
      ],
      requeueAfterMs: 1000,
    },
    {
      case: 'a step held past its pause (Inconclusive): the next analysis, not the pause end gone by',
      found: [
        SERVING_V1,
        canaryAt(
          { stepReachedAt: at(80), stepVerdict: 'Inconclusive' },
          { analysis: { time: at(98), verdict: 'Inconclusive', windowSeconds: 10, message: '', checks: [] } },
        ),
      ],
      requeueAfterMs: 3000,
    },
  ])('the next pass is due at the earliest wakeup to come: $case', ({ found, requeueAfterMs }) => {
    expect(decideModel(foundView(found)).requeueAfterMs).toBe(requeueAfterMs);
  });
});

describe('analysisDue', () => {
  test('only for a canary with traffic, every interval', () => {
    const c = serving();
    expect(analysisDue(c.view())).toBeUndefined();
    c.apply('fraud-v2', FAST);
    c.run();
    expect(analysisDue(c.view())).toBeUndefined(); // deploying
    c.run();
    expect(analysisDue(c.view())).toMatchObject({
      target: { namespace: 'ml', model: 'fraud', canary: 'v2', stable: 'v1', windowSeconds: 10 },
      prometheusUrl: 'http://p',
    });
    c.run(pass);
    expect(analysisDue(c.view())).toBeUndefined();
    c.advance(4);
    expect(analysisDue(c.view())).toBeUndefined();
    c.advance(1);
    expect(analysisDue(c.view())).toBeDefined();
    // A canary whose spec gives no rollout is analysed by the defaults.
    expect(
      analysisDue(
        foundView([SERVING_V1, { ...canaryAt({ stepReachedAt: at(95) }), spec: { serving: { replicas: 2 } } }]),
      ),
    ).toMatchObject({ spec: { intervalSeconds: 30, windowSeconds: 60 } });
    // A canary whose status records neither weight nor step was never routed.
    expect(
      analysisDue(
        foundView([SERVING_V1, { name: 'fraud-v2', created: 10, status: { role: 'canary', weight: 0 }, ready: 1 }]),
      ),
    ).toBeUndefined();
    // An abort pending: the pass rolls back instead.
    c.apply('fraud-v2', {}, { 'modelops.dev/abort': 'now' });
    expect(analysisDue(c.view())).toBeUndefined();
  });

  test('a model whose versions give no serving spec: one pod each, the default steps and analysis', () => {
    const c = new Cluster();
    c.apply('fraud-v1');
    c.reconcile();
    c.reconcile();
    expect(c.summary()['fraud-v1']).toBe('Serving/stable/100');
    expect(c.deployments.get('fraud-v1')!.replicas).toBe(1);
    c.apply('fraud-v2');
    c.run();
    c.run();
    expect(c.events.find((e) => e.reason === 'CanaryStarted')!.message).toBe(
      'rolling out v2 against stable v1 by replica ratio: steps 5 → 25 → 50 → 100 %',
    );
    expect(c.status('fraud-v2')).toMatchObject({ role: 'canary', rollout: { step: 0, steps: 4 } });
    expect(c.deployments.get('fraud-v2')!.replicas).toBe(1);
    expect(analysisDue(c.view())).toMatchObject({ spec: { intervalSeconds: 30, windowSeconds: 60 } });
  });
});
