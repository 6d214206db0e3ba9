// The controller runtime's public API. Controllers import from here only.
export { Manager, type ManagerOptions } from './manager.js';
export type { ControllerOptions, ReconcileContext, ReconcileResult, WatchSpec } from './controller.js';
export { Client, FIELD_MANAGER, type ListOptions, type PatchType } from './client.js';
export { Cache } from './store/cache.js';
export type { LabelSelector } from './store/label-selector.js';
export { StatusWriter, computeStatus, statusChanged, type DesiredStatus } from './status.js';
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
  isNotFound,
  isConflict,
  isAlreadyExists,
} from './errors.js';
export { createLogger, type Logger } from './logging.js';
export { realClock, FakeClock, toMetaTime, toMicroTime, type Clock } from './clock.js';
export {
  apiVersionOf,
  keyToString,
  objectKeyOf,
  type KubernetesObject,
  type ObjectKey,
  type ObjectMeta,
  type OwnerReference,
  type ResourceRef,
} from './types.js';
