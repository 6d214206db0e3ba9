// Pure: the TrainingJob's status after one pass, and the Events that tell the user what changed.
// Finished and Ready are decided here, from the run and its registration together:
//   Finished  True once nothing more will happen (failed, or succeeded with its registration decided)
//   Ready     True when the run succeeded and its registration, if asked for, was decided
import { findCondition, isConditionTrue, type ConditionInput, type DesiredStatus } from '../../runtime/index.js';
import type { TrainingJob } from '../../api/index.js';
import { totalGpus } from './job.js';
import type { PendingEvent, Registration, RunOutcome } from './register.js';
import { isFinished, type Phase, type RunState } from './state.js';

export interface Pass {
  tj: TrainingJob;
  run: RunState;
  /** A succeeded run's metrics and artifact (as recorded, or as just reported). */
  outcome?: RunOutcome;
  registration?: Registration;
  /** The Job this pass created, if it did. */
  createdJob?: string;
}

export function desiredStatus({ tj, run, outcome, registration }: Pass): DesiredStatus {
  const status: DesiredStatus = {
    phase: run.phase,
    gpus: totalGpus(tj),
    conditions: [...run.conditions, ...(registration ? [registration.condition] : []), ...finished(run, registration)],
  };
  if (isConditionTrue(run.conditions, 'Created')) status.jobName = tj.metadata.name;
  if (run.startTime) status.startTime = run.startTime;
  if (run.completionTime) status.completionTime = run.completionTime;
  if (outcome) {
    status.metrics = outcome.metrics;
    const headlineMetric = headline(tj, outcome.metrics);
    if (headlineMetric) status.headlineMetric = headlineMetric;
    if (outcome.artifact) status.artifact = outcome.artifact;
    if (outcome.reference) status.reference = outcome.reference;
  }
  return { ...status, ...registration?.status };
}

function finished(run: RunState, registration: Registration | undefined): ConditionInput[] {
  const both = (status: 'True' | 'False', ready: 'True' | 'False', reason: string, message: string) => [
    { type: 'Finished', status, reason, message },
    { type: 'Ready', status: ready, reason, message },
  ];
  if (!isFinished(run.phase)) return both('False', 'False', run.phase, 'the run has not finished');
  if (run.phase === 'Failed') {
    const failed = findCondition(run.conditions, 'Failed');
    return both('True', 'False', failed?.reason ?? 'Failed', failed?.message ?? 'the run failed');
  }
  if (registration && !registration.settled)
    return both('False', 'False', 'Registering', registration.condition.message);
  return both('True', 'True', 'Succeeded', 'training completed');
}

/** The metric a user cares about first: the gate's, else val_auc, else any. */
function headline(tj: TrainingJob, metrics: Record<string, number>): string | undefined {
  const name = tj.spec.register?.gate?.[0]?.metric ?? ('val_auc' in metrics ? 'val_auc' : Object.keys(metrics)[0]);
  const value = name === undefined ? undefined : metrics[name];
  return value === undefined ? undefined : `${name}=${Number(value.toFixed(4))}`;
}

/** What this pass changed, as Events; sent only when the status write changed something. */
export function passEvents(previousPhase: Phase | undefined, { run, registration, createdJob }: Pass): PendingEvent[] {
  const events: PendingEvent[] = [];
  if (createdJob) events.push({ type: 'Normal', reason: 'Created', message: `created Job ${createdJob}` });
  const phaseChanged = run.phase !== previousPhase ? phaseEvent(previousPhase, run) : undefined;
  if (phaseChanged) events.push(phaseChanged);
  // A problem short of failure (image pull, scheduling, DRA not served): repeats join one Event's series.
  if (run.warning && run.phase !== 'Failed') events.push({ type: 'Warning', ...run.warning });
  if (registration?.event) events.push(registration.event);
  return events;
}

function phaseEvent(previous: Phase | undefined, run: RunState): PendingEvent | undefined {
  switch (run.phase) {
    case 'Failed':
      return {
        type: 'Warning',
        reason: run.warning?.reason ?? 'Failed',
        message: run.warning?.message ?? 'the run failed',
      };
    case 'Succeeded':
      return { type: 'Normal', reason: 'Succeeded', message: 'training completed' };
    case 'Running':
      return previous === 'Suspended'
        ? { type: 'Normal', reason: 'Resumed', message: 'the run is resumed' }
        : { type: 'Normal', reason: 'Running', message: 'training pods are running' };
    case 'Suspended':
      return { type: 'Normal', reason: 'Suspended', message: 'the run is suspended' };
    default:
      return undefined; // Pending: the Created event says what happened
  }
}
