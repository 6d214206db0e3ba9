// The reconciler on the runtime's in-memory cluster, with a stand-in Prometheus whose answers each
// test sets: when it evaluates, what one pass writes and creates, and what it says in Events.
import { Registry } from 'prom-client';
import { AlreadyExistsError, ApiError, type ObjectKey } from '../../runtime/index.js';
import { FakeClock, InMemoryCluster, refusedUrl } from '../../runtime/testing/index.js';
import { resources, type DriftMonitor, type ModelVersion, type TrainingJob } from '../../api/index.js';
import { driftMonitorController, nextEvaluation } from './controller.js';
import { CENTRED, driftMonitor, modelVersion, retrainSpec, SHIFTED } from './fixtures.test-helpers.js';
import type { PrometheusClient } from '../../prometheus/index.js';

const DM = resources.DriftMonitor;
const MV = resources.ModelVersion;
const TJ = resources.TrainingJob;
const KEY: ObjectKey = { namespace: 'ml', name: 'fraud-drift' };
const EDGES = ['-1', '-0.5', '0.5', '1', '+Inf'];

/** Answers like Prometheus for its features (f0..f2): centred, or shifted for those listed (all versions, or by version). */
class StandIn implements PrometheusClient {
  readonly url = 'http://prom:9090';
  features = ['f0', 'f1', 'f2'];
  shifted: string[] = [];
  shiftedByVersion: Record<string, string[]> = {};
  samples = 2000;
  queries = 0;
  async query(expr: string) {
    this.queries++;
    const version = /version="([^"]+)"/.exec(expr)![1]!;
    const shifted = this.shiftedByVersion[version] ?? this.shifted;
    const cumulative = (counts: number[], labels: Record<string, string>) => {
      let sum = 0;
      return counts.map((c, i) => ({
        labels: { ...labels, le: EDGES[i]! },
        value: (sum += (c * this.samples) / 1000),
      }));
    };
    const features = (live: boolean) =>
      this.features.flatMap((feature) =>
        cumulative(live && shifted.includes(feature) ? SHIFTED : CENTRED, { feature }),
      );
    if (expr.includes('modelops_reference_feature')) return features(false);
    if (expr.includes('modelops_feature_value')) return features(true);
    return cumulative(CENTRED, {});
  }
  async queryRange(): Promise<never> {
    throw new Error('the DriftMonitor makes instant queries only');
  }
}

function setUp(spec: Partial<DriftMonitor['spec']> = {}, { operatorPrometheus = true } = {}) {
  const clock = new FakeClock(Date.UTC(2026, 2, 1, 12));
  const cluster = new InMemoryCluster({ clock });
  const prometheus = new StandIn();
  const registry = new Registry();
  const prometheusUrl = operatorPrometheus ? 'http://prom:9090' : undefined;
  const controller = driftMonitorController(
    { prometheusUrl, servingImage: 'unused', registry },
    { prometheus: () => prometheus },
  );
  cluster.seed(MV, modelVersion('fraud-v1', 'v1', { role: 'stable', phase: 'Serving' }));
  cluster.seed(DM, driftMonitor({ intervalSeconds: 60, windowSeconds: 600, driftedShare: 0.5, ...spec }));
  const dm = () => cluster.get<DriftMonitor>(DM, KEY)!;
  const reconcile = () => cluster.reconcile(controller, KEY);
  return { clock, cluster, prometheus, registry, controller, dm, reconcile };
}

const statusWrites = (cluster: InMemoryCluster) => cluster.writes.filter((w) => w.verb === 'updateStatus').length;

describe('when it evaluates', () => {
  test('at once, then not before the interval, then again; Events only when the verdict changes', async () => {
    const { clock, cluster, prometheus, dm, reconcile } = setUp();
    expect(await reconcile()).toEqual({ requeueAfterMs: 60_000 });
    expect(dm().status).toMatchObject({ phase: 'Healthy', lastEvaluationTime: '2026-03-01T12:00:00.000Z' });
    const queries = prometheus.queries;

    // Woken early (a ModelVersion changed): no queries, no write, back at the evaluation's time.
    clock.advance(20_000);
    const writes = statusWrites(cluster);
    expect(await reconcile()).toEqual({ requeueAfterMs: 40_000 });
    expect(prometheus.queries).toBe(queries);
    expect(statusWrites(cluster)).toBe(writes);

    clock.advance(40_000);
    await reconcile();
    expect(prometheus.queries).toBeGreaterThan(queries);
    expect(dm().status!.lastEvaluationTime).toBe('2026-03-01T12:01:00.000Z');
    expect(cluster.events.map((e) => e.reason)).toEqual(['NoDrift']);

    prometheus.shifted = ['f0', 'f1'];
    clock.advance(60_000);
    await reconcile();
    expect(dm().status).toMatchObject({ phase: 'Critical', summary: 'f0 PSI=0.9861 (v1)' });
    expect(cluster.logs.at(-1)).toEqual({ level: 'debug', verdicts: [['v1', 'Critical']], msg: 'evaluated drift' });
    clock.advance(60_000);
    await reconcile();
    expect(cluster.events.map((e) => [e.type, e.reason])).toEqual([
      ['Normal', 'NoDrift'],
      ['Warning', 'DriftCritical'],
    ]);
  });

  test('at once after a spec change', async () => {
    const { clock, cluster, prometheus, reconcile } = setUp();
    await reconcile();
    const queries = prometheus.queries;
    const changed = structuredClone(cluster.get<DriftMonitor>(DM, KEY)!);
    changed.metadata.generation = 2;
    changed.spec.driftedShare = 0.2;
    cluster.seed(DM, changed);
    clock.advance(1_000);
    await reconcile();
    expect(prometheus.queries).toBeGreaterThan(queries);
    expect(cluster.get<DriftMonitor>(DM, KEY)!.status!.observedGeneration).toBe(2);
  });

  test('at once when the stable version changes (the first serves, a promotion); a new canary at the interval', async () => {
    const { clock, cluster, prometheus, dm, reconcile } = setUp({ versions: 'Both' });
    cluster.seed(MV, modelVersion('fraud-v1', 'v1', { role: 'none', phase: 'Deploying' }));
    await reconcile();
    expect(dm().status!.phase).toBe('Pending');

    // v1 serves before the interval is over: judged at once, not 60 s after the Pending verdict.
    clock.advance(5_000);
    cluster.seed(MV, modelVersion('fraud-v1', 'v1', { role: 'stable', phase: 'Serving' }));
    await reconcile();
    expect(dm().status).toMatchObject({ phase: 'Healthy', lastEvaluationTime: '2026-03-01T12:00:05.000Z' });

    // A canary starts: its pods are rarely scraped yet, so it waits for the interval.
    clock.advance(5_000);
    cluster.seed(MV, modelVersion('fraud-v2', 'v2', { role: 'canary', phase: 'Canary' }));
    const queries = prometheus.queries;
    expect(await reconcile()).toEqual({ requeueAfterMs: 55_000 });
    expect(prometheus.queries).toBe(queries);
    clock.advance(55_000);
    await reconcile();
    expect(dm().status!.versions!.map((v) => `${v.role}/${v.version}`)).toEqual(['stable/v1', 'canary/v2']);

    // Promoted: the new stable at once.
    clock.advance(3_000);
    cluster.seed(MV, modelVersion('fraud-v1', 'v1', { role: 'none', phase: 'Retired' }));
    cluster.seed(MV, modelVersion('fraud-v2', 'v2', { role: 'stable', phase: 'Serving' }));
    await reconcile();
    expect(dm().status!.versions!.map((v) => `${v.role}/${v.version}`)).toEqual(['stable/v2']);
    expect(dm().status!.lastEvaluationTime).toBe('2026-03-01T12:01:08.000Z');
  });

  test('with no Prometheus configured it says what to set', async () => {
    const { dm, reconcile } = setUp({}, { operatorPrometheus: false });
    await reconcile();
    expect(dm().status!.phase).toBe('Error');
    expect(dm().status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PrometheusNotConfigured',
      message: expect.stringMatching(/set spec.prometheusUrl or the operator flag --prometheus-url/),
    });
  });

  test('no version to watch: which kind it waits for; a new reason or message is a new evaluation', async () => {
    const { clock, cluster, dm, reconcile } = setUp();
    cluster.seed(MV, modelVersion('fraud-v1', 'v1', { phase: 'Deploying' }));
    await reconcile();
    expect(dm().status).toMatchObject({ phase: 'Pending', lastEvaluationTime: '2026-03-01T12:00:00.000Z' });
    expect(dm().status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({
      reason: 'NoServingVersion',
      message: 'no serving version of model fraud to watch',
    });

    clock.advance(60_000);
    const canaries = structuredClone(dm());
    canaries.metadata.generation = 2;
    canaries.spec.versions = 'Canary';
    cluster.seed(DM, canaries);
    await reconcile();
    expect(dm().status).toMatchObject({ phase: 'Pending', lastEvaluationTime: '2026-03-01T12:01:00.000Z' });
    expect(dm().status!.conditions!.find((c) => c.type === 'Drifted')).toMatchObject({
      status: 'Unknown',
      reason: 'NoServingVersion',
      message: 'no canary version of model fraud to watch',
    });
  });

  test('a status without conditions or versions (an older writer) is read as such', async () => {
    const { clock, cluster, dm, reconcile } = setUp(retrainSpec(), { operatorPrometheus: false });
    await reconcile();
    const evaluated = dm().status!.lastEvaluationTime;
    const { versions: _versions, ...withoutVersions } = dm().status!;
    cluster.seed(DM, { ...dm(), status: withoutVersions });
    clock.advance(60_000);
    await reconcile();
    expect(dm().status!.lastEvaluationTime).toBe(evaluated);

    cluster.seed(DM, { ...dm(), status: { ...withoutVersions, conditions: undefined } });
    clock.advance(60_000);
    await reconcile();
    expect(dm().status!.conditions!.map((c) => c.reason)).toEqual([
      'PrometheusNotConfigured',
      'PrometheusNotConfigured',
      'Idle',
    ]);
  });

  test('an evaluation that cannot judge and changes nothing writes nothing', async () => {
    const { clock, cluster, dm, reconcile } = setUp({}, { operatorPrometheus: false });
    expect(await reconcile()).toEqual({ requeueAfterMs: 60_000 });
    const evaluated = dm().status!.lastEvaluationTime;
    const writes = statusWrites(cluster);
    clock.advance(60_000);
    expect(await reconcile()).toEqual({ requeueAfterMs: 60_000 });
    expect(statusWrites(cluster)).toBe(writes);
    expect(dm().status!.lastEvaluationTime).toBe(evaluated);
  });
});

describe('nextEvaluation: the interval from the last evaluation, unless what it judged has changed', () => {
  const LAST = '2026-03-01T12:00:00.000Z';
  const verdict = (version: string, role: 'stable' | 'canary') => ({
    version,
    modelVersion: `fraud-${version}`,
    role,
    verdict: 'None' as const,
  });
  const watching = (...versions: [string, 'stable' | 'canary'][]) =>
    versions.map(([version, role]) => ({ modelVersion: modelVersion(`fraud-${version}`, version, { role }), role }));
  const judged = (status: Partial<NonNullable<DriftMonitor['status']>>, spec: Partial<DriftMonitor['spec']> = {}) =>
    driftMonitor({ intervalSeconds: 60, ...spec }, { observedGeneration: 1, lastEvaluationTime: LAST, ...status });
  const at = (seconds: number) => new Date(Date.parse(LAST) + seconds * 1000);

  test.each([
    ['never evaluated', judged({ lastEvaluationTime: undefined }), watching(['v1', 'stable']), undefined],
    ['the spec changed since', judged({ observedGeneration: 0 }), watching(['v1', 'stable']), undefined],
    [
      'the same stable version, a canary beside it',
      judged({ versions: [verdict('v2', 'canary'), verdict('v1', 'stable')] }),
      watching(['v2', 'canary'], ['v1', 'stable']),
      at(60),
    ],
    [
      'another stable version now',
      judged({ versions: [verdict('v1', 'stable')] }),
      watching(['v2', 'stable']),
      undefined,
    ],
    ['none serving then, none now', judged({}), [], at(60)],
    ['none serving then, one now', judged({}), watching(['v1', 'stable']), undefined],
    ['the default interval, 5 min', judged({}, { intervalSeconds: undefined }), [], at(300)],
  ])('%s', (_case, dm, watched, due) => {
    expect(nextEvaluation(dm, watched)).toEqual(due);
  });
});

describe('retraining', () => {
  const setUpRetrain = () => {
    const s = setUp({ ...retrainSpec({ cooldownSeconds: 3600, maxPerDay: 2 }), driftedShare: 0.5 });
    s.prometheus.shifted = ['f0', 'f1'];
    return s;
  };
  const runs = (cluster: InMemoryCluster) => cluster.list<TrainingJob>(TJ, 'ml');
  const finish = (cluster: InMemoryCluster, name: string) => {
    const tj = structuredClone(cluster.get<TrainingJob>(TJ, { namespace: 'ml', name })!);
    cluster.seed(TJ, { ...tj, status: { phase: 'Succeeded' } } as never);
  };

  test('one run at a time, none within the cooldown, the next after it', async () => {
    const { clock, cluster, dm, reconcile } = setUpRetrain();
    await reconcile();
    expect(runs(cluster).map((r) => r.metadata.name)).toEqual(['fraud-drift-retrain-1']);
    expect(dm().status).toMatchObject({ activeTrainingJob: 'fraud-drift-retrain-1', retrainingRuns: 1 });
    expect(cluster.events.map((e) => e.reason)).toEqual(['DriftCritical', 'RetrainingStarted']);
    expect(cluster.logs.filter((l) => l.level === 'info')).toEqual([
      { level: 'info', trainingJob: 'fraud-drift-retrain-1', msg: 'started retraining' },
    ]);

    clock.advance(60_000);
    await reconcile();
    expect(runs(cluster)).toHaveLength(1);
    expect(dm().status!.conditions!.find((c) => c.type === 'Retraining')).toMatchObject({ reason: 'RunInProgress' });
    // A run in progress is no news: its start was told.
    expect(cluster.events.map((e) => e.reason)).toEqual(['DriftCritical', 'RetrainingStarted']);

    finish(cluster, 'fraud-drift-retrain-1');
    clock.advance(60_000);
    await reconcile();
    expect(runs(cluster)).toHaveLength(1);
    expect(dm().status!.conditions!.find((c) => c.type === 'Retraining')).toMatchObject({ reason: 'Cooldown' });
    expect(dm().status!.activeTrainingJob).toBeUndefined();
    expect(cluster.events.at(-1)).toMatchObject({ type: 'Normal', reason: 'RetrainingCooldown' });

    // Told once, when the reason changes, not at every evaluation within the cooldown.
    clock.advance(60_000);
    await reconcile();
    expect(cluster.events.filter((e) => e.reason === 'RetrainingCooldown')).toHaveLength(1);

    clock.advance(3_600_000);
    await reconcile();
    expect(
      runs(cluster)
        .map((r) => r.metadata.name)
        .sort(),
    ).toEqual(['fraud-drift-retrain-1', 'fraud-drift-retrain-2']);
    expect(dm().status!.actions!.map((a) => a.trainingJob)).toEqual(['fraud-drift-retrain-1', 'fraud-drift-retrain-2']);
  });

  test("a breach over many features: the run's record keeps the reason's first 1024 characters, the status field's limit", async () => {
    const { cluster, prometheus, dm, reconcile } = setUpRetrain();
    prometheus.features = Array.from({ length: 100 }, (_, i) => `feature_${String(i).padStart(3, '0')}`);
    prometheus.shifted = prometheus.features;
    await reconcile();
    const [action] = dm().status!.actions!;
    const started = cluster.events.find((e) => e.reason === 'RetrainingStarted')!.message;
    const reason = started.slice('started TrainingJob fraud-drift-retrain-1: '.length);
    expect(reason.length).toBeGreaterThan(1024);
    expect(action!.reason).toBe(reason.slice(0, 1024));
  });

  test('a run whose start could not be recorded is found, not created twice', async () => {
    const { clock, cluster, dm, reconcile } = setUpRetrain();
    let refuse = true;
    cluster.interceptWrites(({ verb, ref }) =>
      refuse && verb === 'updateStatus' && ref === DM
        ? new ApiError(409, 'Conflict', 'the object has been modified')
        : undefined,
    );
    await expect(reconcile()).rejects.toThrow(/modified/);
    expect(runs(cluster)).toHaveLength(1);

    refuse = false;
    clock.advance(1_000);
    await reconcile();
    expect(runs(cluster)).toHaveLength(1);
    expect(cluster.writes.filter((w) => w.verb === 'create')).toHaveLength(1);
    expect(dm().status!.actions).toEqual([
      expect.objectContaining({
        type: 'Retrain',
        trainingJob: 'fraud-drift-retrain-1',
        reason: expect.stringMatching(/^v1 \(stable\)/),
      }),
    ]);
  });

  test('no drift: the Retraining condition says idle, with no Event of its own; it stays between evaluations', async () => {
    const { clock, cluster, dm, reconcile } = setUp(retrainSpec());
    await reconcile();
    const idle = { type: 'Retraining', status: 'False', reason: 'Idle' };
    expect(dm().status!.conditions!.find((c) => c.type === 'Retraining')).toMatchObject(idle);
    expect(cluster.events.map((e) => e.reason)).toEqual(['NoDrift']);
    clock.advance(20_000);
    cluster.seed(MV, modelVersion('fraud-v2', 'v2', { role: 'canary', phase: 'Canary' }));
    expect(await reconcile()).toEqual({ requeueAfterMs: 40_000 });
    expect(dm().status!.conditions!.find((c) => c.type === 'Retraining')).toMatchObject(idle);
  });

  test("a run's end shows in the Retraining condition at once, not at the next evaluation", async () => {
    const { clock, cluster, dm, reconcile } = setUpRetrain();
    await reconcile();
    finish(cluster, 'fraud-drift-retrain-1');
    clock.advance(10_000);
    expect(await reconcile()).toEqual({ requeueAfterMs: 50_000 });
    // Whether a cooldown holds the next run back is decided by the next evaluation.
    expect(dm().status!.conditions!.find((c) => c.type === 'Retraining')).toMatchObject({
      reason: 'Idle',
      message: 'no retraining run in progress',
    });
    expect(dm().status!.activeTrainingJob).toBeUndefined();
  });

  test("the run's registered version and its rollout show in the monitor's record of it", async () => {
    const { clock, cluster, dm, reconcile } = setUpRetrain();
    await reconcile();
    expect(cluster.events.at(-1)).toMatchObject({
      type: 'Normal',
      reason: 'RetrainingStarted',
      message: expect.stringMatching(/^started TrainingJob fraud-drift-retrain-1: v1 \(stable\)/),
    });
    const tj = structuredClone(cluster.get<TrainingJob>(TJ, { namespace: 'ml', name: 'fraud-drift-retrain-1' })!);
    const registered = { type: 'Registered', status: 'True', reason: 'GatePassed', message: 'passed' };
    cluster.seed(TJ, {
      ...tj,
      status: { phase: 'Succeeded', modelVersion: 'fraud-v2', conditions: [registered] },
    } as never);
    // Just registered, at an evaluation: no status yet; then its canary starts.
    cluster.seed(MV, { ...modelVersion('fraud-v2', 'v2'), status: undefined });
    clock.advance(60_000);
    await reconcile();
    expect(dm().status!.actions!.at(-1)).toMatchObject({ modelVersion: 'fraud-v2', outcome: 'registered fraud-v2' });
    cluster.seed(MV, modelVersion('fraud-v2', 'v2', { role: 'canary', phase: 'Canary' }));
    clock.advance(10_000);
    await reconcile();
    expect(dm().status!.actions!.at(-1)).toMatchObject({ outcome: 'registered fraud-v2: Canary' });
  });

  test('a monitor that does not retrain has no Retraining condition', async () => {
    const { dm, reconcile } = setUp();
    await reconcile();
    expect(dm().status!.conditions!.map((c) => c.type)).toEqual(['Ready', 'Drifted']);
  });

  test("a run labelled with the monitor's name but owned by another object is not its run", async () => {
    const { cluster, dm, reconcile } = setUpRetrain();
    const foreign = {
      apiVersion: 'modelops.dev/v1alpha1',
      kind: 'TrainingJob',
      metadata: {
        name: 'fraud-drift-retrain-7',
        namespace: 'ml',
        labels: { 'modelops.dev/driftmonitor': 'fraud-drift' },
        ownerReferences: [
          { apiVersion: 'modelops.dev/v1alpha1', kind: 'DriftMonitor', name: 'fraud-drift', uid: 'an-earlier-monitor' },
        ],
      },
      spec: {},
      status: { phase: 'Running' },
    };
    cluster.seed(TJ, foreign as never);
    const unowned = {
      ...foreign,
      metadata: { ...foreign.metadata, name: 'fraud-drift-retrain-8', ownerReferences: undefined },
    };
    cluster.seed(TJ, unowned as never);
    await reconcile();
    expect(dm().status).toMatchObject({ activeTrainingJob: 'fraud-drift-retrain-1', retrainingRuns: 1 });
  });

  test('a run owned by the monitor among other owners is its run; a failed one is no longer active', async () => {
    const { cluster, dm, reconcile } = setUpRetrain();
    const owner = (kind: string, name: string, uid: string) => ({
      apiVersion: 'modelops.dev/v1alpha1',
      kind,
      name,
      uid,
    });
    const run = {
      apiVersion: 'modelops.dev/v1alpha1',
      kind: 'TrainingJob',
      metadata: {
        name: 'fraud-drift-retrain-3',
        namespace: 'ml',
        labels: { 'modelops.dev/driftmonitor': 'fraud-drift' },
        ownerReferences: [owner('Pipeline', 'nightly', 'pipeline-uid'), owner('DriftMonitor', 'fraud-drift', 'dm-uid')],
      },
      spec: {},
      status: { phase: 'Running' },
    };
    cluster.seed(TJ, run as never);
    await reconcile();
    expect(dm().status!.activeTrainingJob).toBe('fraud-drift-retrain-3');
    expect(runs(cluster)).toHaveLength(1);

    cluster.seed(TJ, { ...run, status: { phase: 'Failed' } } as never);
    await reconcile();
    expect(dm().status!.activeTrainingJob).toBeUndefined();
  });

  test('a run that exists already (created by a pass whose status write was lost) is recorded as started', async () => {
    const { cluster, dm, reconcile } = setUpRetrain();
    cluster.interceptWrites(({ verb, ref }) =>
      verb === 'create' && ref === TJ ? new AlreadyExistsError(409, 'AlreadyExists', 'already exists') : undefined,
    );
    await reconcile();
    expect(dm().status!.actions).toEqual([
      expect.objectContaining({ type: 'Retrain', trainingJob: 'fraud-drift-retrain-1' }),
    ]);
    expect(cluster.events.map((e) => e.reason)).toEqual(['DriftCritical', 'RetrainingStarted']);
  });

  test('any other refusal of the run fails the pass, to be retried', async () => {
    const { cluster, reconcile } = setUpRetrain();
    cluster.interceptWrites(({ verb, ref }) =>
      verb === 'create' && ref === TJ ? new ApiError(403, 'Forbidden', 'trainingjobs is forbidden') : undefined,
    );
    await expect(reconcile()).rejects.toThrow(/forbidden/);
  });

  test('no run while a canary rolls out: its outcome comes first', async () => {
    const { cluster, dm, reconcile } = setUpRetrain();
    cluster.seed(MV, modelVersion('fraud-v2', 'v2', { role: 'canary', phase: 'Canary' }));
    await reconcile();
    expect(runs(cluster)).toHaveLength(0);
    expect(dm().status!.conditions!.find((c) => c.type === 'Retraining')).toMatchObject({
      reason: 'RolloutInProgress',
    });
  });
});

test('a canary in breach is asked to roll back, once; a stable version in breach is not a canary to roll back', async () => {
  const { clock, cluster, prometheus, dm, reconcile } = setUp({ versions: 'Both', actions: { rollbackCanary: true } });
  cluster.seed(MV, modelVersion('fraud-v2', 'v2', { role: 'canary', phase: 'Canary' }));
  prometheus.shiftedByVersion = { v1: ['f0', 'f1'], v2: [] };
  await reconcile();
  expect(dm().status!.versions!.map((v) => [v.version, v.verdict])).toEqual([
    ['v1', 'Critical'],
    ['v2', 'None'],
  ]);
  expect(cluster.get<ModelVersion>(MV, { namespace: 'ml', name: 'fraud-v2' })!.metadata.annotations).toBeUndefined();

  prometheus.shiftedByVersion = { v1: [], v2: ['f0', 'f1'] };
  clock.advance(60_000);
  await reconcile();
  const canary = cluster.get<ModelVersion>(MV, { namespace: 'ml', name: 'fraud-v2' })!;
  expect(canary.metadata.annotations).toEqual({ 'modelops.dev/abort': 'driftmonitor/fraud-drift: f0 PSI=0.9861' });
  expect(cluster.writes.filter((w) => w.verb === 'patch')).toEqual([
    expect.objectContaining({ key: { namespace: 'ml', name: 'fraud-v2' }, fieldManager: 'modelops-driftmonitor' }),
  ]);
  expect(cluster.events.at(-1)).toMatchObject({
    type: 'Warning',
    reason: 'CanaryRollbackRequested',
    message: 'asked ModelVersion fraud-v2 to roll back (modelops.dev/abort): driftmonitor/fraud-drift: f0 PSI=0.9861',
  });

  clock.advance(60_000);
  await reconcile();
  expect(cluster.writes.filter((w) => w.verb === 'patch')).toHaveLength(1);
  expect(dm().status!.actions).toEqual([expect.objectContaining({ type: 'RollbackCanary', modelVersion: 'fraud-v2' })]);
});

test('a model of the same name in another namespace is not watched', async () => {
  const { cluster, dm, reconcile } = setUp();
  cluster.seed(MV, {
    ...modelVersion('fraud-v0', 'v0', { role: 'stable', phase: 'Serving' }),
    metadata: { name: 'fraud-v0', namespace: 'other' },
  });
  await reconcile();
  expect(dm().status!.versions!.map((v) => v.modelVersion)).toEqual(['fraud-v1']);
});

test('without injected clients: the reference file and Prometheus over HTTP (refused: each error names its URL)', async () => {
  const url = await refusedUrl();
  const cluster = new InMemoryCluster({ clock: new FakeClock(Date.UTC(2026, 2, 1, 12)) });
  const controller = driftMonitorController({ prometheusUrl: url, servingImage: 'unused' });
  cluster.seed(MV, modelVersion('fraud-v1', 'v1', { role: 'stable', phase: 'Serving' }));
  cluster.seed(DM, driftMonitor({ reference: { uri: `${url}/reference.json` } }));
  const verdict = async () => {
    await cluster.reconcile(controller, KEY);
    return cluster.get<DriftMonitor>(DM, KEY)!.status!.versions![0];
  };
  // Under Jest fetch's error comes from another realm than the test's Error: it reads as `TypeError: fetch failed`.
  const { verdict: unavailable, message } = (await verdict())!;
  expect([unavailable, message?.replace(': TypeError: ', ': ')]).toEqual([
    'Unavailable',
    `reference ${url}/reference.json: fetch failed`,
  ]);
  // Without a reference file, the reference comes from Prometheus too.
  const dm = cluster.get<DriftMonitor>(DM, KEY)!;
  await cluster.client.update(DM, { ...dm, spec: { model: 'fraud' } } as never);
  expect(await verdict()).toMatchObject({
    verdict: 'Unavailable',
    message: expect.stringMatching(`^Prometheus ${url}: unreachable for query .*ECONNREFUSED`),
  });
});

test('the gauge follows the monitor and goes with it', async () => {
  const { cluster, registry, reconcile } = setUp();
  await reconcile();
  expect(await registry.metrics()).toMatch(/modelops_drift_score\{[^}]*feature="f0",method="PSI"\} 0/);
  await cluster.client.delete(DM, KEY);
  await reconcile();
  expect(await registry.metrics()).not.toMatch(/modelops_drift_score\{/);
});

test('it owns its retraining runs: a run changing wakes its monitor', () => {
  expect(setUp().controller.owns).toEqual([TJ]);
});

test("a ModelVersion's change wakes the monitors of its model, and only those", () => {
  const { cluster, controller } = setUp();
  cluster.seed(DM, { ...driftMonitor(), metadata: { name: 'churn-drift', namespace: 'ml' }, spec: { model: 'churn' } });
  const ctx = cluster.context(controller);
  const watch = controller.watches!.find((w) => w.resource === MV)!;
  const mv: ModelVersion = modelVersion('fraud-v3', 'v3');
  expect(watch.map(mv as never, ctx.cache)).toEqual([KEY]);
  // Before the monitors' cache has synced (its initial list enqueues every monitor): nothing, and no throw.
  cluster.setAvailable(DM, false);
  expect(watch.map(mv as never, ctx.cache)).toEqual([]);
});
