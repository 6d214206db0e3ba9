// ModelVersion: serving and canary rollout land with the serving issue; until then the resource is
// validated at apply time and marked as waiting.
import { resources } from '../../api/index.js';
import { awaitingController } from '../awaiting.js';
import type { ControllerSettings } from '../../config.js';

// `settings` (--prometheus-url, --serving-image) are for the implementation that replaces this one.
export const modelVersionController = (_settings: ControllerSettings) =>
  awaitingController(
    'modelversion',
    resources.ModelVersion,
    'serving and canary rollout are not implemented by this operator version yet',
  );
