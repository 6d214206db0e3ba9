// The bed's serving-pod runner, started by `testbed.sh up` when the data plane is on:
//   node --import tsx test/bed/serving-pods/main.ts --kubeconfig FILE --state-dir DIR --volumes DIR --marker DIR
// Runs the serving image's compiled entry point (it starts about a second sooner than through tsx), rebuilt
// when serving-image/src changes. SIGTERM stops every serving process and removes their addresses.
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { ServingPodRunner } from './runner.js';
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

const stop = () => {
  runner.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

// Serving processes of a previous runner of this bed that died without stopping them would hold their pods'
// addresses and ports: they are killed (no drain: their output has nowhere to go) and the pods started afresh.
await run('pkill', ['-KILL', '-f', '--', `--modelops-bed=${marker}$`]).catch(() => undefined);
await servingEntryPoint();
await runner.start();
console.log(JSON.stringify({ time: new Date().toISOString(), message: 'watching serving pods' }));
