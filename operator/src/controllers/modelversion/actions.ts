// The one-shot actions of contract C7 as annotations: a value different from the last one handled
// (recorded in status.handledActions) is pending and acts once; re-applying the same manifest never
// repeats an action, and a new value always does.
import type { ModelVersion, ModelVersionStatus } from '../../api/index.js';
import { ACTIONS, actionAnnotation, type Action } from './names.js';

export type Handled = NonNullable<ModelVersionStatus['handledActions']>;
export type Pending = Partial<Record<Action, string>>;

export function pendingActions(mv: ModelVersion): Pending {
  const handled = mv.status?.handledActions ?? {};
  const pending: Pending = {};
  for (const action of ACTIONS) {
    const value = mv.metadata.annotations?.[actionAnnotation(action)];
    if (value !== undefined && value !== handled[action]) pending[action] = value;
  }
  return pending;
}

/** Declarative pause from Git or kubectl patch: spec.serving.rollout.paused. */
export const isPaused = (mv: ModelVersion) => mv.spec.serving?.rollout?.paused === true;
