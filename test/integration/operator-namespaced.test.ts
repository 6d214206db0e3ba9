// The chart's watchNamespaces: the operator, with only the Roles the chart grants in the namespaces it
// watches (its own ServiceAccount's token, no cluster-wide access), runs and reconciles there — and
// never touches other namespaces.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { dump, loadAll } from 'js-yaml';
import type { V1Job } from '@kubernetes/client-node';
import type { TrainingJob } from '../../operator/src/api/index.js';
import { kubeConfig, kubectl, objectApi, useNamespace, waitFor } from '../harness/cluster.js';
import { bedScript, repoRoot } from '../harness/paths.js';
import { startOperator, type OperatorProcess } from './operator.test-helpers.js';

const home = useNamespace('ops');
const watched = useNamespace('ml');
const other = useNamespace('elsewhere');
const release = 'scoped';
let operator: OperatorProcess | undefined;

function helm(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      ['-c', `eval "$(bash ${bedScript} env)" && helm "$@"`, 'helm', ...args],
      { encoding: 'utf8', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)),
    );
  });
}

let rbac: { kind: string; metadata: { name: string; namespace?: string } }[] = [];

beforeAll(async () => {
  const rendered = await helm([
    'template',
    release,
    `${repoRoot}/charts/modelops`,
    '--namespace',
    home.name,
    '--set',
    `operator.watchNamespaces={${watched.name}}`,
  ]);
  const docs = loadAll(rendered) as { kind: string; metadata: { name: string; namespace?: string } }[];
  rbac = docs.filter(
    (d) => d && ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(d.kind),
  );
  const applied = await kubectl(['apply', '-f', '-'], rbac.map((d) => dump(d)).join('---\n'));
  if (applied.code !== 0) throw new Error(applied.stderr);

  // A kubeconfig with nothing but the operator's ServiceAccount token.
  const token = await kubectl(['create', 'token', `${release}-operator`, '-n', home.name]);
  if (token.code !== 0) throw new Error(token.stderr);
  const cluster = kubeConfig().getCurrentCluster()!;
  const dir = mkdtempSync(join(tmpdir(), 'modelops-sa-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'bed',
          cluster: {
            server: cluster.server,
            'certificate-authority-data': Buffer.from(readFileSync(cluster.caFile!)).toString('base64'),
          },
        },
      ],
      users: [{ name: 'operator', user: { token: token.stdout.trim() } }],
      contexts: [{ name: 'operator', context: { cluster: 'bed', user: 'operator' } }],
      'current-context': 'operator',
    }),
  );
  operator = await startOperator(
    [`--namespaces=${watched.name}`, '--leader-elect', `--leader-election-namespace=${home.name}`],
    { KUBECONFIG: file, POD_NAME: 'scoped-operator' },
  );
});

afterAll(async () => {
  await operator?.stop();
});

const run = (namespace: string): TrainingJob => ({
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'TrainingJob',
  metadata: { name: 'scoped', namespace },
  spec: {
    image: 'trainer:1',
    dataset: { uri: 'synthetic://fraud' },
    output: { uri: 's3://models/x', credentialsSecret: { name: 's3' } },
    gpus: { count: 0 },
    podMetadata: { annotations: { 'sim.modelops.dev/message': '{"metrics":{"val_auc":0.9}}' } },
  },
});

test('the chart grants Roles in the watched namespace (and the Lease), no ClusterRole', () => {
  expect(rbac.filter((d) => d.kind.startsWith('Cluster'))).toEqual([]);
  expect(
    rbac
      .filter((d) => d.kind === 'Role')
      .map((d) => d.metadata.namespace)
      .sort(),
  ).toEqual([watched.name, home.name].sort()); // the watched namespace's rules, and the Lease in its own
});

test('with only those Roles, the operator becomes ready and leads', async () => {
  expect((await fetch(`http://127.0.0.1:${operator!.ports.health}/readyz`)).status).toBe(200);
  await waitFor(
    `/apis/coordination.k8s.io/v1/namespaces/${home.name}/leases`,
    (l: { spec?: { holderIdentity?: string } }) => l.spec?.holderIdentity === 'scoped-operator',
    'the Lease held',
  );
});

test('it runs TrainingJobs in the watched namespace and leaves the others alone', async () => {
  await objectApi().create(run(other.name) as never);
  await objectApi().create(run(watched.name) as never);
  await waitFor<V1Job>(
    `/apis/batch/v1/namespaces/${watched.name}/jobs`,
    (j) => j.metadata?.name === 'scoped',
    'its Job',
  );
  const done = await waitFor<TrainingJob>(
    `/apis/modelops.dev/v1alpha1/namespaces/${watched.name}/trainingjobs`,
    (tj) => tj.status?.phase === 'Succeeded',
    'the watched run Succeeded',
  );
  expect(done.status?.jobName).toBe('scoped');
  const elsewhere = await kubectl(['get', 'tj', 'scoped', '-n', other.name, '-o', 'json']);
  expect(JSON.parse(elsewhere.stdout).status).toBeUndefined();
  expect((await kubectl(['get', 'jobs', '-n', other.name, '-o', 'name'])).stdout.trim()).toBe('');
  // nothing it did was refused: its Roles cover every call it makes
  expect(operator!.logs.filter((l) => (l.level as number) >= 40).map((l) => l.msg)).toEqual([]);
});
