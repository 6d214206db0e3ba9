// What to do about a breach, decided by chains of named pure checks (the first that objects
// decides), and what to record: a retraining run (one at a time, after the cooldown, under the daily
// cap, not while a rollout is in progress) and the rollback of a canary in breach (once per canary).
import type { DriftAction, DriftMonitor, ModelVersion, TrainingJob } from '../../api/index.js';
import type { ConditionInput } from '../../runtime/index.js';
import type { Evaluation } from './verdict.js';
import { ANNOTATION_DRIFT_REASON } from './retrain.js';

export const ANNOTATION_ABORT = 'modelops.dev/abort';
const DAY_MS = 86_400_000;
const HISTORY = 20;

export interface ActionInput {
  dm: DriftMonitor;
  now: Date;
  evaluations: Evaluation[];
  /** The TrainingJobs this monitor started that still exist. */
  runs: TrainingJob[];
  /** The model's canary ModelVersion while a rollout is in progress. */
  canary: ModelVersion | undefined;
}

export type Decision = { act: true; reason: string } | { act: false; reason: string; message: string };

type Check = (input: ActionInput) => { reason: string; message: string } | undefined;

const finished = (tj: TrainingJob) => tj.status?.phase === 'Succeeded' || tj.status?.phase === 'Failed';
const retrainActions = (dm: DriftMonitor) => (dm.status?.actions ?? []).filter((a) => a.type === 'Retrain');

/** The breaches (critical versions) as one line, e.g. `v1 (stable): 3 of 30 features critical (...)`. */
export function breachOf(evaluations: Evaluation[]): string | undefined {
  const critical = evaluations.filter((e) => e.verdict.verdict === 'Critical');
  return critical.length
    ? critical.map((e) => `${e.verdict.version} (${e.verdict.role}): ${e.verdict.message}`).join(' | ')
    : undefined;
}

const noRunInProgress: Check = ({ runs }) => {
  const running = runs.find((tj) => !finished(tj));
  return running
    ? { reason: 'RunInProgress', message: `retraining run ${running.metadata.name} has not finished` }
    : undefined;
};

const noRolloutInProgress: Check = ({ canary }) =>
  canary
    ? {
        reason: 'RolloutInProgress',
        message: `the canary ${canary.metadata.name} is rolling out; its outcome comes first`,
      }
    : undefined;

const cooldownElapsed: Check = ({ dm, now }) => {
  const last = retrainActions(dm).at(-1);
  if (!last) return undefined;
  const cooldownMs = (dm.spec.actions!.retrain!.cooldownSeconds ?? 86400) * 1000;
  const next = new Date(new Date(last.time).getTime() + cooldownMs);
  return now < next
    ? {
        reason: 'Cooldown',
        message: `the last run (${last.trainingJob}) started at ${last.time}; the next may start at ${next.toISOString()}`,
      }
    : undefined;
};

const underDailyCap: Check = ({ dm, now }) => {
  const cap = dm.spec.actions!.retrain!.maxPerDay ?? 1;
  const today = retrainActions(dm).filter((a) => now.getTime() - new Date(a.time).getTime() < DAY_MS).length;
  return today >= cap
    ? { reason: 'DailyCap', message: `${today} runs started in the last 24 h, maxPerDay ${cap}` }
    : undefined;
};

export const RETRAIN_CHAIN: readonly Check[] = [noRunInProgress, noRolloutInProgress, cooldownElapsed, underDailyCap];

/** Undefined when retraining is not configured or nothing is in breach. */
export function decideRetrain(input: ActionInput): Decision | undefined {
  const breach = breachOf(input.evaluations);
  if (!input.dm.spec.actions?.retrain || !breach) return undefined;
  for (const check of RETRAIN_CHAIN) {
    const objection = check(input);
    if (objection) return { act: false, ...objection };
  }
  return { act: true, reason: breach };
}

/** The canary to roll back and the abort annotation's value, when the canary itself is in breach. */
export function decideRollback(input: ActionInput): { modelVersion: string; value: string } | undefined {
  const { dm, canary, evaluations } = input;
  if (!dm.spec.actions?.rollbackCanary || !canary) return undefined;
  const breach = evaluations.find(
    (e) =>
      e.verdict.role === 'canary' &&
      e.verdict.modelVersion === canary.metadata.name &&
      e.verdict.verdict === 'Critical',
  );
  if (!breach) return undefined;
  const done = (dm.status?.actions ?? []).some(
    (a) => a.type === 'RollbackCanary' && a.modelVersion === canary.metadata.name,
  );
  if (done) return undefined;
  return {
    modelVersion: canary.metadata.name,
    value: `driftmonitor/${dm.metadata.name}: ${breach.worst ?? breach.verdict.message}`,
  };
}

/** The history with a new action appended, oldest dropped beyond the bound. */
export function recordAction(actions: DriftAction[] | undefined, action: DriftAction): DriftAction[] {
  return [...(actions ?? []), action].slice(-HISTORY);
}

/** How a retraining run stands: the run, its gate, the version it registered and that version's rollout. */
export function retrainOutcome(run: TrainingJob | undefined, registered: ModelVersion | undefined): string {
  if (!run) return 'the TrainingJob no longer exists';
  const phase = run.status?.phase ?? 'Pending';
  if (phase === 'Failed') {
    const failed = run.status?.conditions?.find((c) => c.type === 'Failed');
    return `training failed${failed ? `: ${failed.reason}` : ''}`;
  }
  if (phase !== 'Succeeded') return `training ${phase.toLowerCase()}`;
  const gate = run.status?.conditions?.find((c) => c.type === 'Registered');
  if (!gate) return 'training succeeded; registration pending';
  if (gate.status !== 'True') return `not registered: ${run.status?.gateMessage ?? gate.message}`;
  const rollout = registered?.status?.phase;
  return `registered ${run.status?.modelVersion}${rollout ? `: ${rollout}` : ''}`;
}

/** Refreshes the outcome and registered version of every recorded retraining run. */
export function withOutcomes(
  actions: DriftAction[] | undefined,
  runs: Map<string, TrainingJob>,
  versions: Pick<Map<string, ModelVersion>, 'get'>,
): DriftAction[] | undefined {
  return actions?.map((a) => {
    if (a.type !== 'Retrain' || !a.trainingJob) return a;
    const run = runs.get(a.trainingJob);
    const modelVersion = run?.status?.modelVersion ?? a.modelVersion;
    const outcome =
      run || !a.outcome ? retrainOutcome(run, modelVersion ? versions.get(modelVersion) : undefined) : a.outcome;
    return { ...a, ...(modelVersion ? { modelVersion } : {}), outcome };
  });
}

/** The Retraining condition: a run in progress, why a breach does not start one, or idle. */
export function retrainingCondition(runs: TrainingJob[], decision: Decision | undefined): ConditionInput {
  const running = runs.find((tj) => !finished(tj));
  if (running)
    return {
      type: 'Retraining',
      status: 'True',
      reason: 'RunInProgress',
      message: `retraining run ${running.metadata.name} is ${running.status?.phase ?? 'Pending'}`,
    };
  if (decision && !decision.act)
    return { type: 'Retraining', status: 'False', reason: decision.reason, message: decision.message };
  return { type: 'Retraining', status: 'False', reason: 'Idle', message: 'no retraining run in progress' };
}

const RUN_NUMBER = /-retrain-(\d+)$/;
const runNumber = (name: string | undefined) => Number(RUN_NUMBER.exec(name ?? '')?.[1] ?? 0);

/**
 * The number of the next run: past every run counted, recorded or still present. A run created by a
 * pass whose status write then failed is found here rather than created twice under one name.
 */
export function nextRunNumber(dm: DriftMonitor, runs: TrainingJob[]): number {
  const seen = [
    dm.status?.retrainingRuns ?? 0,
    ...runs.map((r) => runNumber(r.metadata.name)),
    ...retrainActions(dm).map((a) => runNumber(a.trainingJob)),
  ];
  return Math.max(...seen) + 1;
}

/** Records runs this monitor owns that its history lacks (their start was written by a failed pass). */
export function adoptUnrecorded(actions: DriftAction[] | undefined, runs: TrainingJob[]): DriftAction[] | undefined {
  const recorded = new Set((actions ?? []).map((a) => a.trainingJob));
  const missing = runs
    .filter((r) => !recorded.has(r.metadata.name))
    .sort((a, b) => runNumber(a.metadata.name) - runNumber(b.metadata.name));
  if (!missing.length) return actions;
  return missing.reduce<DriftAction[]>(
    (acc, run) =>
      recordAction(acc, {
        type: 'Retrain',
        time: run.metadata.creationTimestamp
          ? new Date(run.metadata.creationTimestamp).toISOString()
          : new Date(0).toISOString(),
        reason: run.metadata.annotations?.[ANNOTATION_DRIFT_REASON] ?? 'recorded after the fact',
        trainingJob: run.metadata.name,
      }),
    actions ?? [],
  );
}
