// The least any controller can do, the yardstick latency.ts measures the operator against: watch one kind in one
// namespace and, for each object that appears, send the write the operator sends for its child (the operator's
// own builder) — with the operator's identity, from a process of its own, and nothing else: no work queue, no
// status, no Events, no cache of children. Started by latency.ts; prints one line once its watch has synced.
//   KUBECONFIG=<the operator's> node --import tsx bench/operator/reference-controller.ts --kind=trainingjob --namespace=NS
import pino from 'pino';
import { Informer, listerWatcher } from '../../operator/src/runtime/informer.js';
import { argValue, kubeconfigClient, kubeconfigPath } from './bed.js';
import { KINDS } from './kinds.js';
import { REFERENCE_STARTED } from './reference.js';

const kind = KINDS[argValue('kind', 'trainingjob')];
if (!kind) throw new Error(`--kind must be one of ${Object.keys(KINDS).join(', ')}`);
const namespace = argValue('namespace', '');
if (!namespace) throw new Error('--namespace is required');

// KUBECONFIG is the operator's here (latency.ts starts this process so).
const client = kubeconfigClient(kubeconfigPath());
const logger = pino({ level: 'warn' });
const parents = new Informer(
  kind.parent,
  listerWatcher(client, kind.parent, { namespace, watchTimeoutSeconds: 300, idleTimeoutMs: 330_000 }),
  { logger },
);
parents.addHandlers({
  onAdd: (parent) =>
    void kind.writeChild(client, parent).catch((err: unknown) => logger.error({ err: String(err) }, 'write failed')),
});
parents.start();
await parents.whenSynced();
console.log(REFERENCE_STARTED);
process.once('SIGTERM', () => void parents.stop().then(() => process.exit(0)));
