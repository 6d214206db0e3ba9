// The Helm chart installs on a real API server into a namespace that enforces the "restricted" Pod
// Security Standard, its pods start, and its RBAC grants what the controllers use and nothing more.
import { execFile } from 'node:child_process';
import type { V1Deployment } from '@kubernetes/client-node';
import { kubectl, objectApi, useNamespace, waitFor } from '../harness/cluster.js';
import { bedScript, repoRoot } from '../harness/paths.js';

const ns = useNamespace('chart');
const release = () => `rel-${ns.name}`;
const serviceAccount = () => `system:serviceaccount:${ns.name}:${release()}-operator`;

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

beforeAll(async () => {
  await objectApi().patch(
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: ns.name,
        labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' },
      },
    },
    undefined,
    undefined,
    undefined,
    undefined,
    'application/merge-patch+json' as never,
  );
  const manifests = await helm(['template', release(), `${repoRoot}/charts/modelops`, '--namespace', ns.name]);
  const applied = await kubectl(['apply', '-n', ns.name, '-f', '-'], manifests);
  if (applied.code !== 0) throw new Error(applied.stderr);
  expect(applied.stderr).not.toMatch(/would violate PodSecurity/);
});

afterAll(async () => {
  await kubectl(['delete', 'clusterrole,clusterrolebinding', `${release()}-operator`, '--ignore-not-found']);
});

test('helm lint passes', async () => {
  await expect(helm(['lint', `${repoRoot}/charts/modelops`])).resolves.toMatch(/0 chart\(s\) failed/);
});

test('the operator pods are admitted under the restricted Pod Security Standard and become ready', async () => {
  const ready = await waitFor<V1Deployment>(
    `/apis/apps/v1/namespaces/${ns.name}/deployments`,
    (d) => d.status?.readyReplicas === 2,
    'operator deployment ready',
  );
  expect(ready.spec?.template.spec?.securityContext).toMatchObject({
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  });
});

test.each([
  ['watch', 'trainingjobs.modelops.dev', 'yes'],
  ['patch', 'trainingjobs.modelops.dev/status', 'yes'],
  ['create', 'modelversions.modelops.dev', 'yes'],
  ['create', 'jobs.batch', 'yes'],
  ['create', 'deployments.apps', 'yes'],
  ['create', 'resourceclaimtemplates.resource.k8s.io', 'yes'],
  ['patch', 'horizontalpodautoscalers.autoscaling', 'yes'],
  ['update', 'httproutes.gateway.networking.k8s.io', 'yes'],
  ['patch', 'modelversions.modelops.dev', 'yes'],
  ['create', 'events.events.k8s.io', 'yes'],
  ['delete', 'modelversions.modelops.dev', 'no'],
  ['get', 'secrets', 'no'],
  ['create', 'pods', 'no'],
  ['delete', 'gateways.gateway.networking.k8s.io', 'no'],
  ['delete', 'nodes', 'no'],
  ['update', 'clusterroles.rbac.authorization.k8s.io', 'no'],
])('the operator may %s %s: %s', async (verb, resource, expected) => {
  const result = await kubectl(['auth', 'can-i', verb, resource, '-n', ns.name, `--as=${serviceAccount()}`]);
  expect(result.stdout.trim()).toBe(expected);
});

test("leader election Leases are allowed only in the operator's namespace", async () => {
  const own = await kubectl([
    'auth',
    'can-i',
    'update',
    'leases.coordination.k8s.io',
    '-n',
    ns.name,
    `--as=${serviceAccount()}`,
  ]);
  const other = await kubectl([
    'auth',
    'can-i',
    'update',
    'leases.coordination.k8s.io',
    '-n',
    'default',
    `--as=${serviceAccount()}`,
  ]);
  expect([own.stdout.trim(), other.stdout.trim()]).toEqual(['yes', 'no']);
});
