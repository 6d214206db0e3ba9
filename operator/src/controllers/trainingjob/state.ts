// Pure state machine: from what the controller observed (the Job, its pods, what the status already
// says, what kept the Job from being created) to the run's phase and conditions.
//
//   Pending ──▶ Running ──▶ Succeeded
//      │   ╲       ▲ │ ╲──▶ Failed
//      │    ▶ Suspended        (Succeeded and Failed are final; a phase never goes back to Pending)
//      ╰──────────────────▶ Failed (the API server refused the Job, the Job vanished mid-run)
//
// Conditions are consistent with the phase: Succeeded=True exactly when Succeeded, Failed=True
// exactly when Failed. Finished and Ready are added by status.ts, once registration is known.
import { isConditionTrue, type ConditionInput } from '../../runtime/index.js';
import type { TrainingJobStatus } from '../../api/index.js';
import type { Job, Pod } from '../resources.js';
import { failureMessage, parseReport, terminatedState, type ParsedReport, type TrainingReport } from './report.js';
import { COMPLETION_INDEX_ANNOTATION, EXIT_INVALID_INPUT } from './job.js';

export type Phase = NonNullable<TrainingJobStatus['phase']>;

export interface Problem {
  reason: string;
  message: string;
}

/** Why the Job was not created: `final` when only a new TrainingJob can help (the API server refused it). */
export interface Blocked extends Problem {
  final: boolean;
}

export interface Observed {
  job: Job | undefined;
  pods: Pod[];
  /** The status as the controller last wrote it. */
  previous: TrainingJobStatus | undefined;
  blocked?: Blocked;
}

export interface RunState {
  phase: Phase;
  /** Created, Suspended, Running, Succeeded, Failed. */
  conditions: ConditionInput[];
  startTime?: string;
  completionTime?: string;
  /** Set once the run succeeded and its report parsed. */
  report?: TrainingReport;
  /** A Warning worth an Event (image pull failures, failed runs, unreadable reports, a refused Job). */
  warning?: Problem;
}

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

export const isFinished = (phase: Phase | undefined): phase is 'Succeeded' | 'Failed' =>
  phase === 'Succeeded' || phase === 'Failed';

const cond = (type: string, status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({
  type,
  status,
  reason,
  message,
});

function jobCondition(job: Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** Why the run failed, in the terms a user acts on: OOMKilled, the program's own error, the Job's reason. */
function explainFailure(job: Job, pods: Pod[]): Problem {
  const failedCondition = jobCondition(job, 'Failed');
  const jobReason = failedCondition?.reason ?? 'Failed';
  const lastFailed = pods
    .filter((p) => p.status?.phase === 'Failed')
    .sort((a, b) =>
      String(terminatedState(a)?.finishedAt ?? '').localeCompare(String(terminatedState(b)?.finishedAt ?? '')),
    )
    .at(-1);
  const terminated = lastFailed && terminatedState(lastFailed);
  if (jobReason === 'DeadlineExceeded')
    return {
      reason: 'DeadlineExceeded',
      message: failedCondition?.message ?? 'the run exceeded activeDeadlineSeconds',
    };
  if (jobReason === 'PodFailurePolicy' && terminated?.exitCode === EXIT_INVALID_INPUT) {
    const said = failureMessage(terminated.message);
    return { reason: 'InvalidInput', message: `the training program rejected its input${said ? `: ${said}` : ''}` };
  }
  if (terminated?.reason === 'OOMKilled')
    return {
      reason: 'OOMKilled',
      message: `the training container ran out of memory (exit code ${terminated.exitCode}); raise spec.resources.memory`,
    };
  if (terminated) {
    const said = failureMessage(terminated.message);
    return {
      reason: jobReason,
      message: `the training container exited with code ${terminated.exitCode}${said ? `: ${said}` : ''}`,
    };
  }
  return { reason: jobReason, message: failedCondition?.message ?? 'the Job failed' };
}

function imagePullProblem(pods: Pod[]): Problem | undefined {
  for (const pod of pods) {
    const waiting = pod.status?.containerStatuses?.find(
      (c) => c.state?.waiting && IMAGE_PULL_REASONS.has(c.state.waiting.reason ?? ''),
    )?.state?.waiting;
    if (waiting)
      return {
        reason: waiting.reason!,
        message: waiting.message ?? `cannot pull the training image (${waiting.reason})`,
      };
  }
  return undefined;
}

/** The scheduler's own words when a pod cannot be placed (no GPU of that model, too few GPUs, ...). */
function schedulingProblem(pods: Pod[]): Problem | undefined {
  for (const pod of pods) {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable')
      return { reason: 'Unschedulable', message: scheduled.message ?? 'no node can run the training pod' };
  }
  return undefined;
}

/** Rank 0 reports. In an Indexed Job that is the pod with completion index 0 — never another rank's. */
function rankZeroReport(job: Job, pods: Pod[]): ParsedReport {
  const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded');
  const reporter =
    job.spec?.completionMode === 'Indexed'
      ? succeeded.find((p) => p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] === '0')
      : succeeded[0];
  if (!reporter) return { ok: false, error: 'the succeeded pod of rank 0 is gone, and its report with it' };
  return parseReport(terminatedState(reporter)?.message);
}

/** Terminal conditions, consistent with the phase. */
function outcome(phase: Phase, reason: string, message: string): ConditionInput[] {
  if (phase === 'Succeeded')
    return [
      cond('Succeeded', 'True', 'Completed', 'training completed and reported its metrics'),
      cond('Failed', 'False', 'Succeeded', 'the run succeeded'),
    ];
  if (phase === 'Failed') return [cond('Succeeded', 'False', reason, message), cond('Failed', 'True', reason, message)];
  const notYet = 'the run has not finished';
  return [cond('Succeeded', 'False', phase, notYet), cond('Failed', 'False', phase, notYet)];
}

/** A run that never got its Job: refused (final) or waiting for something (DRA served, a name freed). */
function blockedState(blocked: Blocked): RunState {
  const phase: Phase = blocked.final ? 'Failed' : 'Pending';
  return {
    phase,
    warning: { reason: blocked.reason, message: blocked.message },
    conditions: [
      cond('Created', 'False', blocked.reason, blocked.message),
      cond('Running', 'False', blocked.reason, 'no Job'),
      ...outcome(phase, blocked.reason, blocked.message),
    ],
  };
}

const RANK: Record<Phase, number> = { Pending: 0, Suspended: 1, Running: 1, Succeeded: 2, Failed: 2 };

export function decideRunState({ job, pods, previous, blocked }: Observed): RunState {
  if (blocked) return blockedState(blocked);
  const created = isConditionTrue(previous?.conditions, 'Created');
  if (!job && created) {
    // It ran, and its Job is gone before the outcome was recorded: rerunning would train again.
    return blockedState({
      final: true,
      reason: 'JobDeleted',
      message:
        'the Job was deleted before the run finished, so its outcome is unknown; create a new TrainingJob to train again',
    });
  }
  if (!job) {
    return {
      phase: 'Pending',
      conditions: [
        cond('Created', 'False', 'Creating', 'creating the Job'),
        cond('Running', 'False', 'Pending', 'the run has not started'),
        ...outcome('Pending', '', ''),
      ],
    };
  }
  const createdCondition = cond('Created', 'True', 'JobCreated', `Job ${job.metadata?.name} created`);
  const times = { startTime: toIso(job.status?.startTime), completionTime: toIso(job.status?.completionTime) };

  if (jobCondition(job, 'Complete')) {
    const parsed = rankZeroReport(job, pods);
    const ended = [
      createdCondition,
      cond('Running', 'False', 'Completed', 'the run finished'),
      cond('Suspended', 'False', 'Completed', 'the run finished'),
    ];
    if (!parsed.ok)
      return {
        phase: 'Failed',
        ...times,
        conditions: [...ended, ...outcome('Failed', 'ReportUnreadable', parsed.error)],
        warning: { reason: 'ReportUnreadable', message: parsed.error },
      };
    return {
      phase: 'Succeeded',
      ...times,
      report: parsed.report,
      conditions: [...ended, ...outcome('Succeeded', '', '')],
    };
  }

  if (jobCondition(job, 'Failed')) {
    const failure = explainFailure(job, pods);
    return {
      phase: 'Failed',
      ...times,
      warning: failure,
      conditions: [
        createdCondition,
        cond('Running', 'False', failure.reason, 'the run ended'),
        cond('Suspended', 'False', 'Failed', 'the run ended'),
        ...outcome('Failed', failure.reason, failure.message),
      ],
    };
  }

  if (job.spec?.suspend) {
    return {
      phase: 'Suspended',
      ...times,
      conditions: [
        createdCondition,
        cond('Suspended', 'True', 'Suspended', 'spec.runPolicy.suspend is true: no pods run'),
        cond('Running', 'False', 'Suspended', 'the run is suspended'),
        ...outcome('Suspended', '', ''),
      ],
    };
  }

  const blockedPods = imagePullProblem(pods) ?? schedulingProblem(pods);
  const running = pods.filter((p) => p.status?.phase === 'Running').length;
  const runningCondition = blockedPods
    ? cond('Running', 'False', blockedPods.reason, blockedPods.message)
    : running > 0
      ? cond('Running', 'True', 'Running', `${running} training pod(s) running`)
      : cond('Running', 'False', 'Starting', 'waiting for the training pods to start');
  // Between pods (a retry, a resumed run, a pod done before its Job is) a run that started stays Running.
  const started = running > 0 && !blockedPods;
  const phase: Phase = started || RANK[previous?.phase ?? 'Pending'] >= RANK.Running ? 'Running' : 'Pending';
  return {
    phase,
    ...times,
    ...(blockedPods ? { warning: blockedPods } : {}),
    conditions: [
      createdCondition,
      cond('Suspended', 'False', 'Resumed', 'the run is not suspended'),
      runningCondition,
      ...outcome(phase, '', ''),
    ],
  };
}

const toIso = (t: string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
