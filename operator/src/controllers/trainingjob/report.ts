// The training program's report: one JSON object in the training container's termination message.
import type { Pod } from '../resources.js';
import { TRAINER_CONTAINER } from './job.js';

interface ArtifactLocation {
  uri: string;
  digest?: string;
}

export interface TrainingReport {
  /** Finite numbers only: anything else a program reports under metrics is left out. */
  metrics: Record<string, number>;
  artifact?: ArtifactLocation;
  reference?: ArtifactLocation;
}

export type ParsedReport = { ok: true; report: TrainingReport } | { ok: false; error: string };

export function parseReport(message: string | undefined): ParsedReport {
  if (!message?.trim()) return { ok: false, error: 'the training container wrote no termination message' };
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { ok: false, error: `the termination message is not JSON: ${truncate(message, 200)}` };
  }
  if (!isObject(value)) return { ok: false, error: 'the termination message is not a JSON object' };
  if (!isObject(value.metrics)) return { ok: false, error: 'the termination message has no "metrics" object' };
  const metrics: Record<string, number> = {};
  for (const [name, v] of Object.entries(value.metrics))
    if (typeof v === 'number' && Number.isFinite(v)) metrics[name] = v;
  return { ok: true, report: { metrics, artifact: location(value.artifact), reference: location(value.reference) } };
}

/** The message a failed program left: its own `{"error": ...}` or the tail of its logs. */
export function failureMessage(message: string | undefined): string | undefined {
  if (!message?.trim()) return undefined;
  try {
    const value: unknown = JSON.parse(message);
    if (isObject(value) && typeof value.error === 'string') return value.error;
  } catch {
    /* not JSON: logs (terminationMessagePolicy FallbackToLogsOnError) */
  }
  return truncate(message.trim(), 512);
}

/** The terminated state of the training container in a pod, if it ended. */
export function terminatedState(pod: Pod) {
  return pod.status?.containerStatuses?.find((c) => c.name === TRAINER_CONTAINER)?.state?.terminated;
}

function location(value: unknown): ArtifactLocation | undefined {
  if (!isObject(value) || typeof value.uri !== 'string') return undefined;
  return { uri: value.uri, ...(typeof value.digest === 'string' ? { digest: value.digest } : {}) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
