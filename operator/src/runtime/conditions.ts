// metav1.Condition bookkeeping, pure: which conditions an object should carry after this reconcile.
import { toMetaTime } from './clock.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** What a reconciler decides; the timestamps and generation are filled in by setCondition. */
export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * Returns `conditions` with `input` set. lastTransitionTime moves to `now` only when the condition
 * is new or its status flips, so re-asserting the same state does not change the object.
 * Order is kept; a new condition goes last. The input array is not modified.
 */
export function setCondition(
  conditions: readonly Condition[],
  input: ConditionInput,
  observedGeneration: number | undefined,
  now: Date,
): Condition[] {
  const existing = conditions.find((c) => c.type === input.type);
  const lastTransitionTime =
    existing && existing.status === input.status ? existing.lastTransitionTime : toMetaTime(now);
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    lastTransitionTime,
  };
  return existing ? conditions.map((c) => (c === existing ? next : c)) : [...conditions, next];
}

/** A condition by type, from written conditions or from a reconciler's ConditionInputs. */
export function findCondition<C extends ConditionInput>(
  conditions: readonly C[] | undefined,
  type: string,
): C | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly ConditionInput[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}
