// DriftMonitor: drift evaluation lands with its own issue; until then the resource is validated at
// apply time and marked as waiting.
import { resources } from '../../api/index.js';
import { awaitingController } from '../awaiting.js';
import type { ControllerSettings } from '../../config.js';

// `settings` (--prometheus-url, --serving-image) are for the implementation that replaces this one.
export const driftMonitorController = (_settings: ControllerSettings) =>
  awaitingController(
    'driftmonitor',
    resources.DriftMonitor,
    'drift evaluation is not implemented by this operator version yet',
  );
