// The operator on a cluster that does not serve resource.k8s.io/v1 (Dynamic Resource Allocation; most
// clusters before Kubernetes 1.34): the bed's kube-apiserver restarted with the API group turned off.
// The operator — its own wiring from operator.ts — becomes ready at once, a plain TrainingJob runs, a
// DRA TrainingJob waits with a condition that says why; the API turned back on, the DRA run starts
// and finishes without the operator being restarted.
import pino from 'pino';
import { parseConfig } from '../../operator/src/config.js';
import { controllers, managerOptions } from '../../operator/src/operator.js';
import { Manager } from '../../operator/src/runtime/index.js';
import type { TrainingJob } from '../../operator/src/api/index.js';
import {
  condition,
  kubeConfig,
  kubectl,
  objectApi,
  restartApiServer,
  restartControllers,
  useNamespace,
  waitFor,
} from '../harness/cluster.js';

const ns = useNamespace('nodra');
const log = pino({ level: process.env.RUNTIME_TEST_LOG ?? 'silent' });
let manager: Manager | undefined;

const deviceClass = `gpu.nvidia.com-${ns.name}`;
const published = () =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'resource.k8s.io/v1',
        kind: 'DeviceClass',
        metadata: { name: deviceClass },
        spec: { selectors: [{ cel: { expression: 'device.driver == "gpu.nvidia.com"' } }] },
      },
      {
        apiVersion: 'resource.k8s.io/v1',
        kind: 'ResourceSlice',
        metadata: { name: `gpu-a100-0-${ns.name}` },
        spec: {
          driver: 'gpu.nvidia.com',
          nodeName: 'gpu-a100-0',
          pool: { name: `gpu-a100-0-${ns.name}`, generation: 1, resourceSliceCount: 1 },
          devices: [0, 1].map((i) => ({
            name: `gpu-${i}`,
            attributes: { productName: { string: 'NVIDIA-A100-SXM4-40GB' } },
          })),
        },
      },
    ],
  });

beforeAll(async () => {
  // A control plane without DRA: the scheduler starts while the API is served (a 1.36 scheduler started
  // without it never schedules), then the API server goes without resource.k8s.io/v1.
  await restartControllers();
  await restartApiServer('--runtime-config=resource.k8s.io/v1=false');
  await restartControllers({ scheduler: false });
}, 120_000);

/** The cluster "upgraded": the API server with its own flags again, its controllers afresh. */
async function upgrade(): Promise<void> {
  await restartApiServer();
  await restartControllers();
}

afterAll(async () => {
  await manager?.stop();
  await upgrade(); // the bed as it was, whatever happened
  await kubectl(['delete', '--ignore-not-found', '-f', '-'], published());
}, 120_000);

function trainingJob(name: string, gpus: TrainingJob['spec']['gpus']): TrainingJob {
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'TrainingJob',
    metadata: { name, namespace: ns.name },
    spec: {
      image: 'ghcr.io/modelops/training:0.1.0',
      dataset: { uri: 'synthetic://fraud?rows=1000&seed=7' },
      output: { uri: 's3://models/fraud', credentialsSecret: { name: 's3' } },
      gpus,
      podMetadata: { annotations: { 'sim.modelops.dev/message': '{"metrics":{"val_auc":0.9}}' } },
    },
  };
}

const tjPath = () => `/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/trainingjobs`;
const waitForTj = (name: string, predicate: (tj: TrainingJob) => boolean, what: string, timeoutMs = 60_000) =>
  waitFor<TrainingJob>(tjPath(), (tj) => tj.metadata.name === name && predicate(tj), `${name}: ${what}`, { timeoutMs });

test('without resource.k8s.io/v1 the operator is ready at once, plain runs run, DRA runs wait and say why; turned on, DRA runs run', async () => {
  expect((await kubectl(['get', '--raw', '/apis/resource.k8s.io/v1'])).stderr).toMatch(/NotFound/);

  const config = parseConfig(['--metrics-port=0', '--health-port=0'], {});
  // The operator's own wiring; only discovery looks again sooner than the default 30 s.
  manager = new Manager({ ...managerOptions(config, kubeConfig(), log), discoveryPeriodMs: 2_000 });
  for (const controller of controllers(config)) manager.addController(controller);
  const starting = performance.now();
  await manager.start();
  console.log(`ready without resource.k8s.io/v1 in ${((performance.now() - starting) / 1000).toFixed(2)} s`);
  expect((await fetch(`http://127.0.0.1:${manager.ports.health}/readyz`)).status).toBe(200);
  expect(
    manager.cache.isAvailable({
      group: 'resource.k8s.io',
      version: 'v1',
      plural: 'resourceclaimtemplates',
      kind: 'ResourceClaimTemplate',
      namespaced: true,
    }),
  ).toBe(false);

  await objectApi().create(trainingJob('plain', { count: 1 }) as never);
  await objectApi().create(
    trainingJob('dra', { count: 2, allocation: 'DynamicResourceAllocation', deviceClassName: deviceClass }) as never,
  );
  await waitForTj('plain', (tj) => tj.status?.phase === 'Succeeded', 'Succeeded');
  const waiting = await waitForTj(
    'dra',
    (tj) => condition(tj as never, 'Created')?.reason === 'DRAUnavailable',
    'DRAUnavailable',
  );
  expect(waiting.status?.phase).toBe('Pending');
  expect(condition(waiting as never, 'Created')?.message).toMatch(/does not serve resource\.k8s\.io\/v1/);
  const event = await waitFor<{ regarding?: { name?: string }; reason?: string; type?: string }>(
    `/apis/events.k8s.io/v1/namespaces/${ns.name}/events`,
    (e) => e.regarding?.name === 'dra' && e.reason === 'DRAUnavailable',
    'the DRAUnavailable event',
  );
  expect(event.type).toBe('Warning');

  // The cluster is upgraded (the API turned on); the operator is left running.
  await upgrade();
  const applied = await kubectl(['apply', '-f', '-'], published());
  if (applied.code !== 0) throw new Error(applied.stderr);
  const done = await waitForTj(
    'dra',
    (tj) => tj.status?.phase === 'Succeeded',
    'Succeeded after DRA appeared',
    120_000,
  );
  expect(condition(done as never, 'Created')?.status).toBe('True');
  const templates = await kubectl(['get', 'resourceclaimtemplates', '-n', ns.name, '-o', 'name']);
  expect(templates.stdout.trim()).toBe('resourceclaimtemplate.resource.k8s.io/dra-gpus');
}, 240_000);
