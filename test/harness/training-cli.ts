// The training runner from a shell (the demo), after eval "$(bash test/bed/testbed.sh env)" on a bed with its
// data plane: trains for real every TrainingJob pod of NAMESPACE annotated as training.ts says, until stopped.
//   node --import tsx test/harness/training-cli.ts --namespace demo
import { parseArgs } from 'node:util';
import { startTrainingRunner } from './training.js';

const { values } = parseArgs({ options: { namespace: { type: 'string' } } });
if (!values.namespace) throw new Error('--namespace is required');
const runner = await startTrainingRunner(values.namespace, (run) =>
  console.log(
    `${run.finishedAt.toISOString()} pod ${run.pod}: exit ${run.exitCode} after ` +
      `${((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1)} s; ${run.message.slice(0, 200)} (log: ${run.log})`,
  ),
);
console.log(
  `training for real the TrainingJob pods of ${values.namespace} annotated sim.modelops.dev/runner=training-image`,
);
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => void runner.stop().then(() => process.exit(0)));
