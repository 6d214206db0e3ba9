// The DriftMonitor reconciler. Every interval: gather each watched version's live and reference
// distributions (gather.ts), judge them with the pure chain (verdict.ts), decide the actions
// (actions.ts), create or annotate what they need, write the status once, then tell the user what
// changed in Events. Between evaluations a pass only follows its retraining runs to their outcome.
import { Registry } from 'prom-client';
import type { ControllerSettings } from '../../config.js';
import {
  byField,
  byLabel,
  isAlreadyExists,
  type Cache,
  type ConditionInput,
  type ControllerOptions,
  type KubernetesObject,
  type ObjectKey,
  type ReconcileContext,
  type ReconcileResult,
} from '../../runtime/index.js';
import {
  MODEL_INDEX,
  modelVersionsByModel,
  resources,
  type DriftAction,
  type DriftMonitor,
  type ModelVersion,
  type TrainingJob,
} from '../../api/index.js';
import {
  ANNOTATION_ABORT,
  adoptUnrecorded,
  decideRetrain,
  decideRollback,
  nextRunNumber,
  recordAction,
  retrainingCondition,
  withOutcomes,
  type ActionInput,
} from './actions.js';
import {
  gatherEvidence,
  httpReferenceFetcher,
  watchedVersions,
  type ReferenceFetcher,
  type WatchedVersion,
} from './gather.js';
import { HttpPrometheusClient, type PrometheusClient } from '../../prometheus/index.js';
import { DriftScoreGauge } from './metrics.js';
import { buildRetrainingJob, LABEL_DRIFTMONITOR } from './retrain.js';
import { assess, driftTransitionEvent, evaluatedAt, type Assessment, type PendingEvent } from './status.js';
import { evaluateVersion, policyOf, type Evaluation } from './verdict.js';

const DM = resources.DriftMonitor;
const MV = resources.ModelVersion;
const TJ = resources.TrainingJob;

/** What a test may replace: the Prometheus client per URL, the fetcher of reference.json URIs. */
export interface DriftMonitorDeps {
  /** The HTTP client (operator/src/prometheus) by default. */
  prometheus?: (url: string) => PrometheusClient;
  fetchReference?: ReferenceFetcher;
}

/** A DriftMonitor's key for every monitor of a model, through the cache's index by spec.model. */
const MONITORS_BY_MODEL = { resource: DM, name: 'spec.model', keys: byField('spec.model') };
/** A monitor's retraining runs, by the label that names it. */
const RUNS_BY_MONITOR = `label:${LABEL_DRIFTMONITOR}`;
const RUNS_BY_MONITOR_INDEX = { resource: TJ, name: RUNS_BY_MONITOR, keys: byLabel(LABEL_DRIFTMONITOR) };

/**
 * `settings.prometheusUrl` is the operator's --prometheus-url (a monitor's own spec.prometheusUrl wins);
 * the scores go on `settings.registry`, the Manager's, served at /metrics.
 */
export function driftMonitorController(
  settings: ControllerSettings & { registry?: Registry },
  overrides: DriftMonitorDeps = {},
): ControllerOptions {
  const deps: Deps = {
    gauge: new DriftScoreGauge(settings.registry ?? new Registry()),
    prometheusUrl: settings.prometheusUrl,
    // The HTTP client holds no connection or state of its own (fetch pools connections): one per evaluation.
    prometheus: overrides.prometheus ?? ((url) => new HttpPrometheusClient({ url })),
    fetchReference: overrides.fetchReference ?? httpReferenceFetcher(),
  };
  return {
    name: 'driftmonitor',
    for: DM,
    // Retraining runs: a run's progress refreshes the monitor's record of it.
    owns: [TJ],
    // A version's rollout changing (a canary appears, is promoted or rolled back) refreshes the
    // monitors of its model: a new stable version is evaluated at once (nextEvaluation).
    watches: [{ resource: MV, map: monitorsOf }],
    indexes: [MONITORS_BY_MODEL, modelVersionsByModel, RUNS_BY_MONITOR_INDEX],
    // An evaluation is a handful of Prometheus queries (30 s each at most) and a few writes.
    reconcileTimeoutMs: 60_000,
    reconcile: (ctx, key) => reconcileDriftMonitor(ctx, key, deps),
  };
}

function monitorsOf(obj: KubernetesObject, cache: Cache): ObjectKey[] {
  // Before the monitors' cache has synced, its initial list enqueues every monitor anyway.
  if (!cache.isAvailable(DM)) return [];
  const mv = obj as ModelVersion & KubernetesObject;
  return cache
    .list<DriftMonitor & KubernetesObject>(DM, {
      namespace: mv.metadata.namespace,
      index: { name: MONITORS_BY_MODEL.name, value: mv.spec.model },
    })
    .map((dm) => ({ namespace: dm.metadata.namespace, name: dm.metadata.name }));
}

interface Deps {
  gauge: DriftScoreGauge;
  prometheusUrl: string | undefined;
  prometheus(url: string): PrometheusClient;
  fetchReference: ReferenceFetcher;
}

const intervalMs = (dm: DriftMonitor) => (dm.spec.intervalSeconds ?? 300) * 1000;

/**
 * An evaluation is due at the interval; at once after a spec change, and at once when the model's stable
 * version is not the one judged last (its first version serves, a canary was promoted, one rolled back to).
 * A new canary waits for the interval: its pods have rarely been scraped yet.
 */
export function nextEvaluation(dm: DriftMonitor, watching: WatchedVersion[]): Date | undefined {
  const last = dm.status?.lastEvaluationTime;
  if (!last || dm.status?.observedGeneration !== dm.metadata.generation) return undefined;
  const judged = dm.status?.versions?.find((v) => v.role === 'stable')?.version;
  const stable = watching.find((w) => w.role === 'stable')?.modelVersion.spec.version;
  if (judged !== stable) return undefined;
  return new Date(new Date(last).getTime() + intervalMs(dm));
}

export async function reconcileDriftMonitor(
  ctx: ReconcileContext,
  key: ObjectKey,
  deps: Deps,
): Promise<ReconcileResult> {
  const dm = ctx.cache.get<DriftMonitor & KubernetesObject>(DM, key);
  if (!dm || dm.metadata.deletionTimestamp) {
    // Retraining runs follow through their owner reference; the scores go now.
    deps.gauge.remove(key as { namespace: string; name: string });
    return;
  }
  const now = ctx.now();
  // Through the indexes: a scan of the namespace per monitor made a start with 1000 monitors, 2000 versions
  // and 2000 runs spend seconds in list().
  const { namespace } = dm.metadata;
  const versions = ctx.cache.list<ModelVersion & KubernetesObject>(MV, {
    namespace,
    index: { name: MODEL_INDEX, value: dm.spec.model },
  });
  const runs = ctx.cache
    .list<TrainingJob & KubernetesObject>(TJ, { namespace, index: { name: RUNS_BY_MONITOR, value: dm.metadata.name } })
    .filter((tj) => tj.metadata.ownerReferences?.some((o) => o.uid === dm.metadata.uid));
  const due = nextEvaluation(dm, watchedVersions(dm, versions));
  const pass: Pass = {
    actions: adoptUnrecorded(dm.status?.actions, runs),
    retrainingRuns: dm.status?.retrainingRuns,
    runs,
    conditions: [],
    events: [],
  };
  const evaluated = !due || due <= now;
  if (evaluated) await evaluateAndAct(ctx, deps, dm, versions, now, pass);
  else if (dm.spec.actions?.retrain) pass.conditions.push(retrainingCondition(runs, undefined));

  await writeStatus(ctx, dm, now, pass);
  const next = evaluated ? new Date(now.getTime() + intervalMs(dm)) : due!;
  return { requeueAfterMs: Math.max(1000, next.getTime() - now.getTime()) };
}

/** What one pass found and decided, collected for its one status write. */
interface Pass {
  assessment?: Assessment;
  actions: DriftAction[] | undefined;
  retrainingRuns: number | undefined;
  runs: (TrainingJob & KubernetesObject)[];
  conditions: ConditionInput[];
  events: PendingEvent[];
}

async function evaluateAndAct(
  ctx: ReconcileContext,
  deps: Deps,
  dm: DriftMonitor & KubernetesObject,
  versions: ModelVersion[],
  now: Date,
  pass: Pass,
): Promise<void> {
  const { evaluations, why } = await evaluate(ctx, deps, dm, versions);
  const assessment = assess(evaluations, why);
  pass.assessment = assessment;
  deps.gauge.set(
    { namespace: dm.metadata.namespace, name: dm.metadata.name, model: dm.spec.model },
    assessment.versions,
  );
  pass.conditions.push(...assessment.conditions);
  const transition = driftTransitionEvent(
    dm.status?.conditions?.find((c) => c.type === 'Drifted'),
    assessment.conditions.find((c) => c.type === 'Drifted')!,
  );
  if (transition) pass.events.push(transition);

  // `versions` are the model's (listed through the model index).
  const canary = versions.find((mv) => mv.status?.role === 'canary');
  const input: ActionInput = { dm, now, evaluations, runs: pass.runs, canary };
  const rollback = decideRollback(input);
  if (rollback) await rollBack(ctx, dm, rollback, now, pass);
  const retrain = decideRetrain(input);
  if (retrain?.act) await startRun(ctx, dm, retrain.reason, now, pass);
  if (dm.spec.actions?.retrain) pass.conditions.push(retrainingCondition(pass.runs, retrain));
}

async function rollBack(
  ctx: ReconcileContext,
  dm: DriftMonitor,
  rollback: { modelVersion: string; value: string },
  now: Date,
  pass: Pass,
): Promise<void> {
  // The ModelVersion's own one-shot action (contract C7): one rollback path, recorded in its status.
  await ctx.client.patch(
    MV,
    { namespace: dm.metadata.namespace, name: rollback.modelVersion },
    { metadata: { annotations: { [ANNOTATION_ABORT]: rollback.value } } },
  );
  pass.actions = recordAction(pass.actions, {
    type: 'RollbackCanary',
    time: now.toISOString(),
    reason: rollback.value,
    modelVersion: rollback.modelVersion,
  });
  pass.events.push({
    type: 'Warning',
    reason: 'CanaryRollbackRequested',
    message: `asked ModelVersion ${rollback.modelVersion} to roll back (${ANNOTATION_ABORT}): ${rollback.value}`,
  });
}

async function startRun(ctx: ReconcileContext, dm: DriftMonitor, reason: string, now: Date, pass: Pass) {
  const run = nextRunNumber(dm, pass.runs);
  const tj = buildRetrainingJob(dm, run, reason);
  try {
    await ctx.client.create(TJ, tj as unknown as KubernetesObject);
  } catch (err) {
    // Created by a pass whose status write then failed: the same name, ours by its owner reference.
    if (!isAlreadyExists(err)) throw err;
  }
  ctx.log.info({ trainingJob: tj.metadata.name }, 'started retraining');
  pass.retrainingRuns = run;
  pass.actions = recordAction(pass.actions, {
    type: 'Retrain',
    time: now.toISOString(),
    reason: reason.slice(0, 1024),
    trainingJob: tj.metadata.name,
  });
  pass.runs = [...pass.runs, tj as TrainingJob & KubernetesObject];
  pass.events.push({
    type: 'Normal',
    reason: 'RetrainingStarted',
    message: `started TrainingJob ${tj.metadata.name}: ${reason}`,
  });
}

/** One status write per pass; then the Events of what changed. */
async function writeStatus(
  ctx: ReconcileContext,
  dm: DriftMonitor & KubernetesObject,
  now: Date,
  pass: Pass,
): Promise<void> {
  const actions = withOutcomes(
    pass.actions,
    new Map(pass.runs.map((r) => [r.metadata.name, r])),
    // A run may register a version of another model than the monitored one.
    { get: (name) => ctx.cache.get<ModelVersion & KubernetesObject>(MV, { namespace: dm.metadata.namespace, name }) },
  );
  const active = pass.runs.find((r) => r.status?.phase !== 'Succeeded' && r.status?.phase !== 'Failed');
  const retraining = pass.conditions.find((c) => c.type === 'Retraining');
  const previous = dm.status?.conditions?.find((c) => c.type === 'Retraining');
  if (
    retraining &&
    retraining.status === 'False' &&
    retraining.reason !== 'Idle' &&
    retraining.reason !== previous?.reason
  )
    pass.events.push({ type: 'Normal', reason: `Retraining${retraining.reason}`, message: retraining.message });
  const a = pass.assessment;
  await ctx.status.update(DM, dm, {
    observedGeneration: dm.metadata.generation,
    ...(a
      ? { phase: a.phase, summary: a.summary, versions: a.versions, lastEvaluationTime: evaluatedAt(dm.status, a, now) }
      : {}),
    actions,
    activeTrainingJob: active?.metadata.name,
    retrainingRuns: pass.retrainingRuns,
    conditions: pass.conditions,
  });
  for (const e of pass.events) await ctx.recorder.event(dm, e.type, e.reason, e.message);
}

async function evaluate(
  ctx: ReconcileContext,
  deps: Deps,
  dm: DriftMonitor,
  versions: ModelVersion[],
): Promise<{ evaluations: Evaluation[]; why?: { reason: string; message: string } }> {
  const url = dm.spec.prometheusUrl ?? deps.prometheusUrl;
  if (!url)
    return {
      evaluations: [],
      why: {
        reason: 'PrometheusNotConfigured',
        message:
          'no Prometheus to read the serving metrics from: set spec.prometheusUrl or the operator flag --prometheus-url',
      },
    };
  const watched = watchedVersions(dm, versions);
  if (watched.length === 0)
    return {
      evaluations: [],
      why: {
        reason: 'NoServingVersion',
        message: `no ${dm.spec.versions === 'Canary' ? 'canary' : 'serving'} version of model ${dm.spec.model} to watch`,
      },
    };
  const evidence = await gatherEvidence(
    { prometheus: deps.prometheus(url), fetchReference: deps.fetchReference, signal: ctx.signal },
    dm,
    watched,
  );
  const policy = policyOf(dm.spec);
  const evaluations = evidence.map((e) => evaluateVersion(policy, e));
  ctx.log.debug({ verdicts: evaluations.map((e) => [e.verdict.version, e.verdict.verdict]) }, 'evaluated drift');
  return { evaluations };
}
