// Pure state machine: from the Job and its pods to the TrainingJob's phase and conditions.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { TrainingJobStatus } from '../../api/index.js';
import type { ConditionInput } from '../../runtime/index.js';
import { failureMessage, parseReport, terminatedState, type TrainingReport } from './report.js';
import { EXIT_INVALID_INPUT } from './job.js';

export interface RunState {
  phase: NonNullable<TrainingJobStatus['phase']>;
  conditions: ConditionInput[];
  startTime?: string;
  completionTime?: string;
  /** Set once the run succeeded and its report parsed. */
  report?: TrainingReport;
  /** A Warning worth an Event (image pull failures, failed runs, unreadable reports). */
  warning?: { reason: string; message: string };
}

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

const cond = (type: string, status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({
  type,
  status,
  reason,
  message,
});

function jobCondition(job: V1Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

const toIso = (t: Date | string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

/** Why the run failed, in the terms a user acts on: OOMKilled, the program's own error, the Job's reason. */
function explainFailure(job: V1Job, pods: V1Pod[]): { reason: string; message: string } {
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

function imagePullProblem(pods: V1Pod[]): { reason: string; message: string } | undefined {
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
function schedulingProblem(pods: V1Pod[]): { reason: string; message: string } | undefined {
  for (const pod of pods) {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable')
      return { reason: 'Unschedulable', message: scheduled.message ?? 'no node can run the training pod' };
  }
  return undefined;
}

function successfulReport(pods: V1Pod[]): ReturnType<typeof parseReport> {
  // Rank 0 (or the only pod) reports; an Indexed Job names it by its completion index.
  const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded');
  const rankZero =
    succeeded.find((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '0') ??
    succeeded[0];
  return parseReport(rankZero ? terminatedState(rankZero)?.message : undefined);
}

export function decideRunState(job: V1Job | undefined, pods: V1Pod[]): RunState {
  if (!job) {
    return {
      phase: 'Pending',
      conditions: [
        cond('Created', 'False', 'Creating', 'creating the Job'),
        cond('Ready', 'False', 'Pending', 'the run has not started'),
      ],
    };
  }
  const created = cond('Created', 'True', 'JobCreated', `Job ${job.metadata?.name} created`);
  const times = { startTime: toIso(job.status?.startTime), completionTime: toIso(job.status?.completionTime) };

  if (jobCondition(job, 'Complete')) {
    const parsed = successfulReport(pods);
    const base = [
      created,
      cond('Running', 'False', 'Completed', 'the run finished'),
      cond('Suspended', 'False', 'Completed', 'the run finished'),
      cond('Failed', 'False', 'Completed', 'the run finished'),
    ];
    if (!parsed.ok) {
      return {
        phase: 'Failed',
        ...times,
        conditions: [
          ...base,
          cond('Succeeded', 'False', 'ReportUnreadable', parsed.error),
          cond('Ready', 'False', 'ReportUnreadable', parsed.error),
        ],
        warning: { reason: 'ReportUnreadable', message: parsed.error },
      };
    }
    return {
      phase: 'Succeeded',
      ...times,
      report: parsed.report,
      conditions: [
        ...base,
        cond('Succeeded', 'True', 'Completed', 'training completed and reported its metrics'),
        cond('Ready', 'True', 'Succeeded', 'training completed'),
      ],
    };
  }

  if (jobCondition(job, 'Failed')) {
    const failure = explainFailure(job, pods);
    return {
      phase: 'Failed',
      ...times,
      warning: failure,
      conditions: [
        created,
        cond('Running', 'False', failure.reason, 'the run ended'),
        cond('Suspended', 'False', 'Failed', 'the run ended'),
        cond('Succeeded', 'False', failure.reason, failure.message),
        cond('Failed', 'True', failure.reason, failure.message),
        cond('Ready', 'False', failure.reason, failure.message),
      ],
    };
  }

  if (job.spec?.suspend) {
    return {
      phase: 'Suspended',
      ...times,
      conditions: [
        created,
        cond('Suspended', 'True', 'Suspended', 'spec.runPolicy.suspend is true: no pods run'),
        cond('Running', 'False', 'Suspended', 'the run is suspended'),
        cond('Ready', 'False', 'Suspended', 'the run is suspended'),
      ],
    };
  }

  const blocked = imagePullProblem(pods) ?? schedulingProblem(pods);
  const running = pods.filter((p) => p.status?.phase === 'Running').length;
  const runningCondition = blocked
    ? cond('Running', 'False', blocked.reason, blocked.message)
    : running > 0
      ? cond('Running', 'True', 'Running', `${running} training pod(s) running`)
      : cond('Running', 'False', 'Starting', 'waiting for the training pods to start');
  return {
    phase: running > 0 && !blocked ? 'Running' : 'Pending',
    ...times,
    ...(blocked ? { warning: blocked } : {}),
    conditions: [
      created,
      cond('Suspended', 'False', 'Resumed', 'the run is not suspended'),
      runningCondition,
      cond('Ready', 'False', 'Running', 'the run has not finished'),
    ],
  };
}
