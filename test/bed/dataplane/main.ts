// The bed's data-plane agent, started by `testbed.sh up` when the data plane is on:
//   node --import tsx test/bed/dataplane/main.ts --kubeconfig FILE --state-dir DIR --volumes DIR --marker DIR
// It stands in for the kubelet of serving pods (serving-pods.ts: the serving image's compiled entry point, which
// starts about a second sooner than through tsx, rebuilt when serving-image/src changes) and for the imitation
// gateway's controller (route-status.ts). SIGTERM stops every serving process and removes their addresses.
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { routeStatusController } from './route-status.js';
import { ServingPodRunner, log } from './serving-pods.js';
import { servingEntryPoint } from './serving-build.js';

const run = promisify(execFile);
/** The label of the loopback addresses the bed adds, so that `testbed.sh down` can find every one. */
const ADDRESS_LABEL = 'lo:modelops';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'state-dir': { type: 'string' },
    volumes: { type: 'string' },
    marker: { type: 'string' },
  },
});
const required = (name: keyof typeof values): string => {
  const value = values[name];
  if (!value) throw new Error(`--${name} is required`);
  return value;
};

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(required('kubeconfig'));
const marker = required('marker');

const runner = new ServingPodRunner({
  kubeConfig,
  stateDir: required('state-dir'),
  volumesRoot: required('volumes'),
  path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  command: async () => ({ file: process.execPath, args: [await servingEntryPoint(), `--modelops-bed=${marker}`] }),
  addAddress: async (ip) => {
    await run('ip', ['addr', 'replace', `${ip}/32`, 'dev', 'lo', 'label', ADDRESS_LABEL]);
  },
  removeAddress: async (ip) => {
    await run('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo']).catch(() => undefined);
  },
});

// Serving processes of a previous agent of this bed that died without stopping them would hold their pods'
// addresses and ports: they are killed (nobody waits for their drain) and the pods started afresh.
await run('pkill', ['-KILL', '-f', '--', `--modelops-bed=${marker}$`]).catch(() => undefined);
await servingEntryPoint();
const routes = routeStatusController(kubeConfig, log);
const stop = () => {
  Promise.all([runner.stop(), routes.then((r) => r.stop())]).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
await runner.start();
await routes;
log('watching serving pods and HTTPRoutes');
