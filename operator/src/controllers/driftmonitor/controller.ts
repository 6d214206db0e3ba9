// DriftMonitor: drift evaluation lands with its own issue; until then the resource is validated at
// apply time and marked as waiting.
import { resources } from '../../api/index.js';
import { awaitingController } from '../awaiting.js';

export const driftMonitorController = () =>
  awaitingController(
    'driftmonitor',
    resources.DriftMonitor,
    'drift evaluation is not implemented by this operator version yet',
  );
