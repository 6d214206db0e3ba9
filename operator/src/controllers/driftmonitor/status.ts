// From the versions' evaluations to the DriftMonitor's phase, conditions and summary, and the Events
// that tell a user about a change of the Drifted condition (and only about a change).
import type { Condition, DriftMonitorStatus, VersionVerdict } from '../../api/index.js';
import type { ConditionInput } from '../../runtime/index.js';
import type { Evaluation } from './verdict.js';

export type Phase = NonNullable<DriftMonitorStatus['phase']>;

export interface PendingEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Assessment {
  phase: Phase;
  summary?: string;
  versions: VersionVerdict[];
  conditions: ConditionInput[];
}

// Worst first: what a drifting version says outweighs one that could not be judged.
const PRECEDENCE: [VersionVerdict['verdict'], Phase][] = [
  ['Critical', 'Critical'],
  ['Warning', 'Warning'],
  ['Unavailable', 'Error'],
  ['NotEnoughData', 'NotEnoughData'],
  ['None', 'Healthy'],
];

const label = (v: VersionVerdict) => `${v.version} (${v.role})`;

/** `why` is set when there is nothing to evaluate: no serving version, no Prometheus configured, ... */
export function assess(evaluations: Evaluation[], why?: { reason: string; message: string }): Assessment {
  if (why || evaluations.length === 0) {
    const { reason, message } = why ?? { reason: 'NoServingVersion', message: 'no watched version serves' };
    return {
      phase: reason === 'NoServingVersion' ? 'Pending' : 'Error',
      versions: [],
      conditions: [
        { type: 'Ready', status: 'False', reason, message },
        { type: 'Drifted', status: 'Unknown', reason, message },
      ],
    };
  }
  const versions = evaluations.map((e) => e.verdict);
  const [worstVerdict, phase] = PRECEDENCE.find(([v]) => versions.some((x) => x.verdict === v))!;
  const worst = evaluations.find((e) => e.verdict.verdict === worstVerdict)!;
  const message = versions.map((v) => `${label(v)}: ${v.message}`).join(' | ');
  const unavailable = evaluations.find((e) => e.verdict.verdict === 'Unavailable');

  const ready: ConditionInput = unavailable
    ? { type: 'Ready', status: 'False', reason: unavailable.reason, message: unavailable.verdict.message ?? '' }
    : { type: 'Ready', status: 'True', reason: 'Evaluated', message: `evaluated ${versions.map(label).join(', ')}` };
  const drifted: ConditionInput =
    phase === 'Critical' || phase === 'Warning'
      ? { type: 'Drifted', status: 'True', reason: phase, message }
      : phase === 'Healthy'
        ? { type: 'Drifted', status: 'False', reason: 'NoDrift', message }
        : { type: 'Drifted', status: 'Unknown', reason: worst.reason, message };

  const summary =
    worst.worst !== undefined
      ? `${worst.worst} (${worst.verdict.version})`
      : worstVerdict === 'NotEnoughData'
        ? `${worst.verdict.samples ?? 0} samples (${worst.verdict.version})`
        : undefined;
  return { phase, ...(summary ? { summary } : {}), versions, conditions: [ready, drifted] };
}

/**
 * The evaluation's time, except when it judged no version and found what the status already says (no
 * Prometheus, no serving version): then the time stays, so an idle monitor writes nothing each interval.
 */
export function evaluatedAt(previous: DriftMonitorStatus | undefined, a: Assessment, now: Date): string {
  const unchanged =
    a.versions.length === 0 &&
    previous?.lastEvaluationTime !== undefined &&
    previous.phase === a.phase &&
    (previous.versions ?? []).length === 0 &&
    a.conditions.every((c) =>
      previous.conditions?.some(
        (p) => p.type === c.type && p.status === c.status && p.reason === c.reason && p.message === c.message,
      ),
    );
  return unchanged ? previous.lastEvaluationTime! : now.toISOString();
}

/** The Event for a change of the Drifted condition; none when its status and reason stay. */
export function driftTransitionEvent(previous: Condition | undefined, next: ConditionInput): PendingEvent | undefined {
  if (previous && previous.status === next.status && previous.reason === next.reason) return undefined;
  switch (next.reason) {
    case 'Critical':
      return { type: 'Warning', reason: 'DriftCritical', message: next.message };
    case 'Warning':
      return { type: 'Warning', reason: 'DriftWarning', message: next.message };
    case 'NoDrift':
      return { type: 'Normal', reason: 'NoDrift', message: next.message };
    case 'NotEnoughData':
    case 'NoServingVersion':
      return { type: 'Normal', reason: next.reason, message: next.message };
    default:
      return { type: 'Warning', reason: next.reason, message: next.message };
  }
}
