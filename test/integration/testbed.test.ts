// Smoke tests that prove the test bed is a real cluster: scheduling against simulated CPU and GPU
// nodes, simulated pod outcomes, garbage collection, RBAC and the Gateway API.
import type { V1Pod, V1Job, V1Deployment, V1ConfigMap } from '@kubernetes/client-node';
import {
  objectApi,
  useNamespace,
  waitFor,
  waitForGone,
  kubectl,
  condition,
  getJson,
  kubeConfig,
  type Condition,
} from '../harness/cluster.js';
import { TESTBED_GATEWAY } from '../harness/dataplane.js';

const ns = useNamespace('bed');
const api = () => objectApi();
const GPU_TOLERATION = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };

function pod(name: string, spec: Partial<V1Pod['spec']> & { annotations?: Record<string, string> } = {}): V1Pod {
  const { annotations, ...podSpec } = spec;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns.name, annotations },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }], ...podSpec },
  };
}

function gpuJob(name: string, gpus: number, extra: Partial<V1Pod['spec']> = {}): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns.name },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          tolerations: [GPU_TOLERATION],
          containers: [{ name: 'train', image: 'trainer', resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }],
          ...extra,
        },
      },
    },
  };
}

const podsPath = () => `/api/v1/namespaces/${ns.name}/pods`;
const byName = (name: string) => ({ fieldSelector: `metadata.name=${name}` });
const unschedulable = (p: V1Pod) => condition(p as never, 'PodScheduled')?.reason === 'Unschedulable';

test("a Deployment's pods become Running and Ready on simulated CPU nodes", async () => {
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: ns.name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
    },
  };
  await api().create(deployment);
  const ready = await waitFor<V1Deployment>(
    `/apis/apps/v1/namespaces/${ns.name}/deployments`,
    (d) => d.status?.readyReplicas === 2,
    'deployment web ready',
    byName('web'),
  );
  expect(ready.status?.availableReplicas).toBe(2);
  const pods = await kubectl([
    'get',
    'pods',
    '-n',
    ns.name,
    '-l',
    'app=web',
    '-o',
    'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\\n"}{end}',
  ]);
  const lines = pods.stdout.trim().split('\n');
  expect(lines).toHaveLength(2);
  for (const line of lines) expect(line).toMatch(/^cpu-\d Running$/);
});

test('a Job requesting nvidia.com/gpu with the toleration runs on a GPU node and completes', async () => {
  await api().create(gpuJob('gpu-ok', 1));
  const done = await waitFor<V1Pod>(podsPath(), (p) => p.status?.phase === 'Succeeded', 'gpu-ok pod Succeeded', {
    labelSelector: 'job-name=gpu-ok',
  });
  expect(done.spec?.nodeName).toMatch(/^gpu-/);
  await waitFor<V1Job>(
    `/apis/batch/v1/namespaces/${ns.name}/jobs`,
    (j) => condition(j as never, 'Complete')?.status === 'True',
    'job gpu-ok Complete',
    byName('gpu-ok'),
  );
});

test('the GPU model label selects the node', async () => {
  await api().create(gpuJob('gpu-a100', 2, { nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB' } }));
  const scheduled = await waitFor<V1Pod>(podsPath(), (p) => !!p.spec?.nodeName, 'gpu-a100 pod scheduled', {
    labelSelector: 'job-name=gpu-a100',
  });
  expect(scheduled.spec?.nodeName).toBe('gpu-a100-0');
});

test('a GPU pod without the NVIDIA toleration is never scheduled', async () => {
  await api().create(
    pod('no-toleration', {
      containers: [{ name: 'main', image: 'trainer', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
    }),
  );
  const stuck = await waitFor<V1Pod>(podsPath(), unschedulable, 'no-toleration Unschedulable', byName('no-toleration'));
  expect(stuck.spec?.nodeName).toBeUndefined();
  const message = condition(stuck as never, 'PodScheduled')?.message ?? '';
  // The three GPU nodes have the GPU but a taint it does not tolerate; the CPU nodes have no GPU.
  expect(message).toMatch(/3 node\(s\) had untolerated taint/);
  expect(message).toMatch(/2 Insufficient nvidia\.com\/gpu/);
});

test("a Job asking for more GPUs than any node has stays Pending with the scheduler's reason", async () => {
  await api().create(gpuJob('too-many', 9));
  const stuck = await waitFor<V1Pod>(podsPath(), unschedulable, 'too-many Unschedulable', {
    labelSelector: 'job-name=too-many',
  });
  expect(stuck.status?.phase).toBe('Pending');
  expect(condition(stuck as never, 'PodScheduled')?.message).toMatch(/Insufficient nvidia\.com\/gpu/);
});

test('a pod whose simulated outcome is failure ends Failed with its exit code and message', async () => {
  const message = '{"error":"CUDA out of memory"}';
  await api().create(
    pod('fails', {
      annotations: {
        'sim.modelops.dev/outcome': 'fail',
        'sim.modelops.dev/exit-code': '137',
        'sim.modelops.dev/reason': 'OOMKilled',
        'sim.modelops.dev/message': message,
      },
    }),
  );
  const failed = await waitFor<V1Pod>(
    podsPath(),
    (p) => p.status?.phase === 'Failed',
    'fails pod Failed',
    byName('fails'),
  );
  const terminated = failed.status?.containerStatuses?.[0]?.state?.terminated;
  expect(terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled', message });
});

test('a pod whose simulated outcome is success carries its termination message', async () => {
  const message = '{"metrics":{"val_auc":0.97}}';
  await api().create(
    pod('succeeds', { annotations: { 'sim.modelops.dev/outcome': 'succeed', 'sim.modelops.dev/message': message } }),
  );
  const done = await waitFor<V1Pod>(
    podsPath(),
    (p) => p.status?.phase === 'Succeeded',
    'succeeds pod Succeeded',
    byName('succeeds'),
  );
  expect(done.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, message });
});

test('deleting an owner garbage-collects its children', async () => {
  const owner = await api().create<V1ConfigMap>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'owner', namespace: ns.name },
  });
  const ownerRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true };
  for (const name of ['child-a', 'child-b']) {
    await api().create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns.name, labels: { owner: 'owner' }, ownerReferences: [ownerRef] },
    });
  }
  await api().delete(owner);
  await waitForGone(`/api/v1/namespaces/${ns.name}/configmaps`, 'children of owner', { labelSelector: 'owner=owner' });
});

test('RBAC is enforced: a ServiceAccount without a grant is refused', async () => {
  await api().create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nobody', namespace: ns.name } });
  const as = `--as=system:serviceaccount:${ns.name}:nobody`;
  const denied = await kubectl(['get', 'pods', '-n', ns.name, as]);
  expect(denied.code).not.toBe(0);
  expect(denied.stderr).toMatch(/forbidden/i);

  await api().create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'pod-reader', namespace: ns.name },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
  } as never);
  await api().create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'nobody-reads', namespace: ns.name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'nobody', namespace: ns.name }],
  } as never);
  // The authorizer sees the new binding through its informer, a moment after the write: ask again,
  // backing off (50 ms, doubling), until it does.
  let allowed = await kubectl(['get', 'pods', '-n', ns.name, as]);
  for (let delayMs = 50; allowed.code !== 0 && delayMs <= 3_200; delayMs *= 2) {
    await new Promise((r) => setTimeout(r, delayMs));
    allowed = await kubectl(['get', 'pods', '-n', ns.name, as]);
  }
  expect(allowed.code).toBe(0);
  const stillDenied = await kubectl(['delete', 'pod', 'fails', '-n', ns.name, as]);
  expect(stillDenied.stderr).toMatch(/forbidden/i);
});

test('a pod whose simulated outcome is an image pull error waits in ImagePullBackOff', async () => {
  await api().create(
    pod('no-image', {
      annotations: { 'sim.modelops.dev/outcome': 'image-pull-error' },
      containers: [{ name: 'main', image: 'registry.invalid/nope:1' }],
    }),
  );
  const stuck = await waitFor<V1Pod>(
    podsPath(),
    (p) => !!p.status?.containerStatuses?.[0]?.state?.waiting,
    'no-image waiting',
    byName('no-image'),
  );
  expect(stuck.status?.phase).toBe('Pending');
  expect(stuck.status?.containerStatuses?.[0]?.state?.waiting).toEqual({
    reason: 'ImagePullBackOff',
    message: 'Back-off pulling image "registry.invalid/nope:1": not found',
  });
});

test("the Gateway API v1.6.3 standard CRDs are installed with the bed's GatewayClass and Gateway", async () => {
  type Crd = { metadata: { name: string; annotations?: Record<string, string> }; status?: unknown };
  const crds = await getJson<{ items: Crd[] }>(kubeConfig(), '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
  const gatewayApi = crds.items.filter((c) => c.metadata.name.endsWith('.gateway.networking.k8s.io'));
  expect(gatewayApi.map((c) => c.metadata.name)).toEqual(
    expect.arrayContaining([
      'gatewayclasses.gateway.networking.k8s.io',
      'gateways.gateway.networking.k8s.io',
      'httproutes.gateway.networking.k8s.io',
      'referencegrants.gateway.networking.k8s.io',
    ]),
  );
  for (const crd of gatewayApi) {
    expect(crd.metadata.annotations).toMatchObject({
      'gateway.networking.k8s.io/bundle-version': 'v1.6.3',
      'gateway.networking.k8s.io/channel': 'standard',
    });
  }
  const gateway = await getJson<{ spec: { gatewayClassName: string }; status?: { conditions?: Condition[] } }>(
    kubeConfig(),
    `/apis/gateway.networking.k8s.io/v1/namespaces/${TESTBED_GATEWAY.namespace}/gateways/${TESTBED_GATEWAY.name}`,
  );
  expect(gateway.spec.gatewayClassName).toBe(TESTBED_GATEWAY.className);
  expect(condition(gateway, 'Programmed')?.status).toBe('True');
  // The API server validates HTTPRoutes by the CRD's schema: a weight below 0 is refused.
  const refused = await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'bad', namespace: ns.name },
      spec: { rules: [{ backendRefs: [{ name: 'svc', port: 80, weight: -1 }] }] },
    }),
  );
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/weight.*greater than or equal to 0/);
});
