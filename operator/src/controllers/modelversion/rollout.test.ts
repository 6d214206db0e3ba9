// The state machine over many passes: a small simulated cluster applies each plan (statuses, replica
// counts, the model's Service, the route) and pods become ready when asked, so whole rollouts run here
// in milliseconds, on a fake clock.
import type { V1Service } from '@kubernetes/client-node';
import type { ModelVersion, ModelVersionSpec, Role } from '../../api/index.js';
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
      object: 'fraud-v2',
      message: 'superseded by fraud-v3 (v3) at 50 %: its traffic went to 0',
    });
    until(c, () => c.status('fraud-v3').phase === 'Serving');
    expect(c.summary()['fraud-v2']).toBe('Superseded/none/0');
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

  test('actions that do not apply are handled once, with an Event that says why', () => {
    const c = serving();
    c.apply('fraud-v1', {}, { 'modelops.dev/abort': 'x', 'modelops.dev/promote': 'y', 'modelops.dev/retry': 'z' });
    c.run();
    expect(c.events.filter((e) => e.reason === 'ActionIgnored').map((e) => e.message)).toEqual([
      'modelops.dev/retry on fraud-v1 ignored: it is Serving, not rolled back, superseded or retired',
      'modelops.dev/abort on fraud-v1 ignored: it is the stable version: nothing to roll back to',
      'modelops.dev/promote on fraud-v1 ignored: it is already the stable version',
    ]);
    expect(c.status('fraud-v1').handledActions).toEqual({ abort: 'x', promote: 'y', retry: 'z' });
    expect(c.summary()['fraud-v1']).toBe('Serving/stable/100');
  });

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
    expect(c.condition('fraud-v1', 'Degraded')).toMatchObject({ status: 'True', reason: 'GatewayAPIUnavailable' });
    c.apply('fraud-v2', { serving: { ...FAST.serving, ...gw } });
    for (let i = 0; i < 30; i++) {
      c.advance(5);
      c.run();
    }
    expect(c.status('fraud-v2')).toMatchObject({ phase: 'Canary', weight: 0 });
    expect(c.condition('fraud-v2', 'Progressing')).toMatchObject({ status: 'False', reason: 'GatewayAPIUnavailable' });
    expect(c.condition('fraud-v2', 'Degraded')!.message).toMatch(/install the Gateway API CRDs or remove gatewayAPI/);
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
    expect(c.condition('fraud-copy', 'Degraded')).toMatchObject({ reason: 'DuplicateVersion' });
    expect(c.events.filter((e) => e.reason === 'DuplicateVersion')).toHaveLength(1);
    c.run();
    expect(c.events.filter((e) => e.reason === 'DuplicateVersion')).toHaveLength(1);
  });

  test('a name taken by an object it does not own: Failed with NameConflict; the model Service’s: Degraded', () => {
    const c = serving();
    c.apply('fraud-v2', FAST);
    const view: ModelView = c.view();
    view.versions.find((v) => v.mv.metadata.name === 'fraud-v2')!.conflict =
      'Deployment fraud-v2 exists and is not owned by this ModelVersion';
    view.modelServiceConflict = 'Service fraud exists and was not made by modelops';
    const plan = decideModel(view);
    const [v1, v2] = plan.drafts;
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
    c.advance(5);
    expect(analysisDue(c.view())).toBeDefined();
  });
});
