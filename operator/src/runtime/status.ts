// Every status write goes through here: compute the next status from the current object and what the
// reconciler wants, and write only when it differs. Skipping no-op writes is what keeps a
// controller's own writes from re-triggering it forever (write → watch event → reconcile → write).
import { isDeepStrictEqual } from 'node:util';
import type { Client } from './client.js';
import type { Clock } from './clock.js';
import { setCondition, type Condition, type ConditionInput } from './conditions.js';
import type { KubernetesObject, ResourceRef } from './types.js';

/** Status fields to set (undefined removes one) and conditions to assert; other fields are kept. */
export interface DesiredStatus {
  conditions?: ConditionInput[];
  [field: string]: unknown;
}

type Status = Record<string, unknown>;

/** Pure: the status `current` should have. Conditions get observedGeneration = metadata.generation. */
function computeStatus(current: KubernetesObject, desired: DesiredStatus, now: Date): Status {
  const { conditions, ...fields } = desired;
  const next: Status = { ...((current.status as Status | undefined) ?? {}) };
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) delete next[field];
    else next[field] = value;
  }
  if (conditions) {
    const generation = current.metadata?.generation;
    next.conditions = conditions.reduce<Condition[]>(
      (acc, c) => setCondition(acc, c, generation, now),
      (next.conditions as Condition[] | undefined) ?? [],
    );
  }
  return next;
}

function statusChanged(current: KubernetesObject, next: Status): boolean {
  return !isDeepStrictEqual((current.status as Status | undefined) ?? {}, next);
}

export class StatusWriter {
  constructor(
    private readonly client: Client,
    private readonly clock: Clock,
  ) {}

  /**
   * Writes the status `desired` implies, via PUT to the /status subresource with `current`'s
   * resourceVersion — so a stale `current` fails with ConflictError (the controller requeues it
   * quietly) instead of overwriting a newer status. Returns false, writing nothing, when unchanged.
   */
  async update(ref: ResourceRef, current: KubernetesObject, desired: DesiredStatus): Promise<boolean> {
    const next = computeStatus(current, desired, this.clock.now());
    if (!statusChanged(current, next)) return false;
    await this.client.updateStatus(ref, { ...current, status: next });
    return true;
  }
}
