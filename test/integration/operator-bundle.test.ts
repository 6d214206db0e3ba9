// The operator as the image runs it: the one bundled file `npm run build:operator` makes (operator/Dockerfile
// copies nothing else), started from a directory with no node_modules to fall back on. It must come up, lead
// and reconcile — a dependency the bundle left out would fail here, not in a cluster.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import { objectApi, useNamespace, waitFor } from '../harness/cluster.js';
import { repoRoot } from '../harness/paths.js';
import { startOperator, type OperatorProcess } from './operator.test-helpers.js';

const ns = useNamespace('bundle');
let operator: OperatorProcess | undefined;

beforeAll(async () => {
  execFileSync('npm', ['run', '--silent', 'build:operator'], { cwd: repoRoot, stdio: 'inherit' });
  const image = mkdtempSync(join(tmpdir(), 'modelops-operator-image-'));
  copyFileSync(join(repoRoot, 'dist/operator/main.mjs'), join(image, 'main.mjs'));
  operator = await startOperator(
    [`--namespaces=${ns.name}`, '--leader-elect', `--leader-election-namespace=${ns.name}`],
    { POD_NAME: 'bundled-operator' },
    join(image, 'main.mjs'),
  );
});

afterAll(async () => {
  await operator?.stop();
});

test('the bundled operator, alone in its directory, leads and reconciles a TrainingJob to its Job', async () => {
  await objectApi().create({
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'TrainingJob',
    metadata: { name: 'bundled', namespace: ns.name },
    spec: {
      image: 'trainer:1',
      dataset: { uri: 'synthetic://fraud' },
      output: { uri: 's3://models/x', credentialsSecret: { name: 's3' } },
      gpus: { count: 0 },
    },
  } as never);
  const job = await waitFor<V1Job>(`/apis/batch/v1/namespaces/${ns.name}/jobs`, () => true, 'the Job', {
    fieldSelector: 'metadata.name=bundled',
  });
  expect(job.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'TrainingJob', name: 'bundled', controller: true });
  expect((await fetch(`http://127.0.0.1:${operator!.ports.health}/readyz`)).status).toBe(200);
  expect(await operator!.stop()).toBe(0);
});
