// The controller runtime's public API. Controllers import from here only (reconcile unit tests also
// from ./testing/index.js).
export { Manager, type ManagerOptions } from './manager.js';
export type {
  ControllerOptions,
  ForSpec,
  IndexSpec,
  OwnsSpec,
  ReconcileContext,
  ReconcileResult,
  WatchSpec,
} from './controller.js';
export type { MapFunc } from './enqueue.js';
export {
  FIELD_MANAGER,
  fieldManagerFor,
  type ApplyOptions,
  type Client,
  type ListOptions,
  type PatchType,
  type PropagationPolicy,
} from './client.js';
export type { Cache, ListQuery } from './store/cache.js';
export type { LabelSelector } from './store/label-selector.js';
export type { IndexFunc } from './store/store.js';
export { byField, byLabel } from './store/indexes.js';
export { StatusWriter, type DesiredStatus } from './status.js';
export { Finalizers, hasFinalizer, isBeingDeleted } from './finalizers.js';
export {
  setCondition,
  findCondition,
  isConditionTrue,
  type Condition,
  type ConditionInput,
  type ConditionStatus,
} from './conditions.js';
export { REPORTING_CONTROLLER, type EventRecorder, type EventType } from './events.js';
export { controllerReference } from './enqueue.js';
export {
  ApiError,
  NotFoundError,
  ConflictError,
  AlreadyExistsError,
  GoneError,
  TerminalError,
  ResourceUnavailableError,
  ReconcileAbortedError,
  isNotFound,
  isConflict,
  isAlreadyExists,
  isInvalid,
  isNamespaceTerminating,
} from './errors.js';
export { createLogger, type Logger } from './logging.js';
export { realClock, toMetaTime, toMicroTime, type Clock } from './clock.js';
export {
  apiVersionOf,
  keyToString,
  objectKeyOf,
  resourceName,
  type KubernetesObject,
  type ObjectKey,
  type ObjectMeta,
  type OwnerReference,
  type ResourceRef,
  type Wire,
} from './types.js';
