// The TrainingJob controller on the real test bed: the Jobs it creates, the paths a run can take
// (success, failure, deadline, suspend, multi-node, DRA) and the promotion gate.
import type { V1Job, V1Pod, V1Service } from '@kubernetes/client-node';
import { Manager, createLogger } from '../../operator/src/runtime/index.js';
import { trainingJobController } from '../../operator/src/controllers/trainingjob/controller.js';
import type { ModelVersion, TrainingJob } from '../../operator/src/api/index.js';
import {
  condition,
  getJson,
  kubeConfig,
  kubectl,
  objectApi,
  useNamespace,
  waitFor,
  waitForGone,
} from '../harness/cluster.js';
import { createBoundClaim, deleteModelClaim } from '../harness/serving.js';

const ns = useNamespace('tj');
const quotaNs = useNamespace('tjq');
let manager: Manager;

beforeAll(async () => {
  // The runs write to pvc://models/...: a statically bound volume, as a cluster admin would provide.
  await createBoundClaim(ns.name, 'models', { path: '/srv/models', accessMode: 'ReadWriteMany' });
  manager = new Manager({
    kubeConfig: kubeConfig(),
    logger: createLogger({ level: process.env.RUNTIME_TEST_LOG ?? 'silent' }),
    metricsPort: 0,
    healthPort: 0,
  });
  manager.addController(trainingJobController());
  await manager.start();
});
afterAll(async () => {
  await manager.stop();
  await deleteModelClaim(ns.name, 'models');
});

const REPORT = {
  metrics: {
    val_auc: 0.961,
    val_accuracy: 0.987,
    val_loss: 0.061,
    train_loss: 0.07,
    samples_per_second: 52000,
    epochs: 3,
  },
  artifact: { uri: '/output/fraud/run/model.onnx', digest: `sha256:${'ab'.repeat(32)}` },
  reference: { uri: '/output/fraud/run/reference.json', digest: `sha256:${'cd'.repeat(32)}` },
};

/** A run; CPU-only unless `spec` asks for GPUs, so that no test's pods hold GPUs another test counts on. */
function trainingJob(
  name: string,
  spec: Partial<TrainingJob['spec']> = {},
  annotations: Record<string, string> = {},
): TrainingJob {
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'TrainingJob',
    metadata: { name, namespace: ns.name },
    spec: {
      image: 'ghcr.io/modelops/training:0.1.0',
      dataset: { uri: 'synthetic://fraud?rows=1000&seed=7', version: 'v3' },
      output: { uri: `pvc://models/fraud/${name}` },
      nodes: 1,
      gpus: { count: 0 },
      podMetadata: { annotations: { 'sim.modelops.dev/message': JSON.stringify(REPORT), ...annotations } },
      ...spec,
    },
  };
}

const tjPath = () => `/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/trainingjobs`;
const byName = (name: string) => ({ fieldSelector: `metadata.name=${name}` });
/** Names `kubectl get -o name` prints, none when it prints nothing. */
const names = async (args: string[]) => (await kubectl([...args, '-o', 'name'])).stdout.split('\n').filter(Boolean);
const podNames = (run: string) => names(['get', 'pods', '-n', ns.name, '-l', `modelops.dev/trainingjob=${run}`]);
const jobNames = (name: string) => names(['get', 'jobs', '-n', ns.name, '--field-selector', `metadata.name=${name}`]);
/** A merge patch of one TrainingJob's spec, as `kubectl patch --type merge` sends it. */
const patchSpec = (name: string, spec: Record<string, unknown>) =>
  objectApi().patch(
    { apiVersion: 'modelops.dev/v1alpha1', kind: 'TrainingJob', metadata: { name, namespace: ns.name }, spec } as never,
    undefined,
    undefined,
    undefined,
    undefined,
    'application/merge-patch+json' as never,
  );
const waitForTj = (name: string, predicate: (tj: TrainingJob) => boolean, what: string) =>
  waitFor<TrainingJob & { metadata: { name: string } }>(tjPath(), predicate as never, `${name}: ${what}`, byName(name));
const hasCondition = (type: string, status: string, reason?: string) => (tj: TrainingJob) => {
  const c = condition(tj as never, type);
  return c?.status === status && (reason === undefined || c.reason === reason);
};
const eventFor = (name: string, reason: string) =>
  waitFor<{ metadata: { name: string }; regarding?: { name?: string }; reason?: string; note?: string; type?: string }>(
    `/apis/events.k8s.io/v1/namespaces/${ns.name}/events`,
    (e) => e.regarding?.name === name && e.reason === reason,
    `event ${reason} for ${name}`,
  );

test('creates a GPU Job with requests, toleration, model selection, labels and owner; the run succeeds and reports', async () => {
  const created = await objectApi().create(
    trainingJob(
      'fraud-a',
      {
        gpus: {
          count: 2,
          model: 'NVIDIA-A100-SXM4-40GB',
          allocation: 'DevicePlugin',
          deviceClassName: 'gpu.nvidia.com',
        },
        runPolicy: { backoffLimit: 0, suspend: false, queueName: 'gpu-queue' },
      },
      { 'sim.modelops.dev/run-for': '1s' },
    ) as never,
  );
  const job = await waitFor<V1Job>(
    `/apis/batch/v1/namespaces/${ns.name}/jobs`,
    () => true,
    'the Job',
    byName('fraud-a'),
  );
  const pod = job.spec!.template.spec!;
  expect(pod.containers[0]!.resources!.limits).toEqual({ 'nvidia.com/gpu': '2' });
  expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB' });
  expect(job.metadata!.labels).toMatchObject({
    'modelops.dev/trainingjob': 'fraud-a',
    'kueue.x-k8s.io/queue-name': 'gpu-queue',
  });
  expect(job.metadata!.ownerReferences).toEqual([
    expect.objectContaining({
      kind: 'TrainingJob',
      name: 'fraud-a',
      uid: (created as TrainingJob).metadata.uid,
      controller: true,
    }),
  ]);

  const running = await waitForTj('fraud-a', (tj) => tj.status?.phase === 'Running', 'Running');
  expect(running.status?.gpus).toBe(2);
  const scheduled = await waitFor<V1Pod>(
    `/api/v1/namespaces/${ns.name}/pods`,
    (p) => !!p.spec?.nodeName,
    'pod scheduled',
    { labelSelector: 'modelops.dev/trainingjob=fraud-a' },
  );
  expect(scheduled.spec!.nodeName).toBe('gpu-a100-0');

  const done = await waitForTj('fraud-a', hasCondition('Ready', 'True'), 'Ready');
  expect(done.status).toMatchObject({
    phase: 'Succeeded',
    jobName: 'fraud-a',
    metrics: REPORT.metrics,
    headlineMetric: 'val_auc=0.961',
    // one user-facing form: the URI the ModelVersion serves from, not the path inside the container
    artifact: { uri: 'pvc://models/fraud/run/model.onnx', digest: REPORT.artifact.digest },
    reference: { uri: 'pvc://models/fraud/run/reference.json', digest: REPORT.reference.digest },
    observedGeneration: 1,
  });
  expect(done.status?.startTime).toBeDefined();
  expect(done.status?.completionTime).toBeDefined();
  expect(condition(done as never, 'Succeeded')).toMatchObject({ status: 'True', reason: 'Completed' });
  await eventFor('fraud-a', 'Succeeded');
  const wait = await kubectl(['wait', '-n', ns.name, '--for=condition=Ready', 'tj/fraud-a', '--timeout=5s']);
  expect(wait.stdout).toMatch(/condition met/);
});

test('an OOM-killed run fails with reason OOMKilled, a message, and a Warning Event', async () => {
  await objectApi().create(
    trainingJob(
      'fraud-oom',
      {},
      {
        'sim.modelops.dev/outcome': 'fail',
        'sim.modelops.dev/exit-code': '137',
        'sim.modelops.dev/reason': 'OOMKilled',
      },
    ) as never,
  );
  const failed = await waitForTj('fraud-oom', hasCondition('Failed', 'True'), 'Failed');
  expect(failed.status?.phase).toBe('Failed');
  expect(condition(failed as never, 'Failed')).toMatchObject({
    reason: 'OOMKilled',
    message: expect.stringMatching(/ran out of memory/),
  });
  expect(condition(failed as never, 'Ready')).toMatchObject({ status: 'False', reason: 'OOMKilled' });
  const event = await eventFor('fraud-oom', 'OOMKilled');
  expect(event.type).toBe('Warning');
  // What a user waits on: Finished for "over, either way", Failed for failure; both hold now.
  for (const wanted of ['Finished', 'Failed']) {
    const wait = await kubectl(['wait', '-n', ns.name, `--for=condition=${wanted}`, 'tj/fraud-oom', '--timeout=5s']);
    expect(wait.stdout).toMatch(/condition met/);
  }
});

test("bad input fails the run at once, in the program's own words, without spending the retries", async () => {
  await objectApi().create(
    trainingJob(
      'fraud-bad-hp',
      { runPolicy: { backoffLimit: 3, suspend: false } },
      {
        'sim.modelops.dev/outcome': 'fail',
        'sim.modelops.dev/exit-code': '2',
        'sim.modelops.dev/message': '{"error":"hyperparameter lr must be a positive number, got -1"}',
      },
    ) as never,
  );
  const failed = await waitForTj('fraud-bad-hp', hasCondition('Failed', 'True'), 'Failed');
  expect(condition(failed as never, 'Failed')).toMatchObject({
    reason: 'InvalidInput',
    message: 'the training program rejected its input: hyperparameter lr must be a positive number, got -1',
  });
  expect(await podNames('fraud-bad-hp')).toHaveLength(1); // no retry although backoffLimit allows 3
});

test('a crashing program is retried, then fails with BackoffLimitExceeded and its last words', async () => {
  await objectApi().create(
    trainingJob(
      'fraud-crash',
      { runPolicy: { backoffLimit: 1, suspend: false } },
      {
        'sim.modelops.dev/outcome': 'fail',
        'sim.modelops.dev/exit-code': '1',
        'sim.modelops.dev/message':
          '{"error":"training failed: RuntimeError: CUDA error: an illegal memory access was encountered"}',
      },
    ) as never,
  );
  const failed = await waitForTj('fraud-crash', hasCondition('Failed', 'True'), 'Failed');
  expect(condition(failed as never, 'Failed')).toMatchObject({
    reason: 'BackoffLimitExceeded',
    message:
      'the training container exited with code 1: training failed: RuntimeError: CUDA error: an illegal memory access was encountered',
  });
  expect(await podNames('fraud-crash')).toHaveLength(2); // the first try and one retry
});

test('an image that cannot be pulled shows in the Running condition and a Warning Event, without failing the run', async () => {
  // On the A100 node: the stuck pod holds its GPU, and the multi-node test needs both H100 nodes whole.
  await objectApi().create(
    trainingJob(
      'fraud-typo',
      { image: 'ghcr.io/modelops/trainng:0.1.0', gpus: { count: 1, model: 'NVIDIA-A100-SXM4-40GB' } },
      { 'sim.modelops.dev/outcome': 'image-pull-error' },
    ) as never,
  );
  const stuck = await waitForTj('fraud-typo', hasCondition('Running', 'False', 'ImagePullBackOff'), 'ImagePullBackOff');
  expect(stuck.status?.phase).toBe('Pending');
  expect(condition(stuck as never, 'Running')?.message).toBe(
    'Back-off pulling image "ghcr.io/modelops/trainng:0.1.0": not found',
  );
  expect((await eventFor('fraud-typo', 'ImagePullBackOff')).type).toBe('Warning');
});

test('a run past its deadline fails with DeadlineExceeded', async () => {
  await objectApi().create(
    trainingJob(
      'fraud-slow',
      { runPolicy: { backoffLimit: 0, suspend: false, activeDeadlineSeconds: 2 } },
      { 'sim.modelops.dev/run-for': '10m' },
    ) as never,
  );
  const failed = await waitForTj('fraud-slow', hasCondition('Failed', 'True'), 'Failed');
  expect(condition(failed as never, 'Failed')?.reason).toBe('DeadlineExceeded');
});

test('a suspended run starts no pods until it is resumed', async () => {
  await objectApi().create(trainingJob('fraud-later', { runPolicy: { backoffLimit: 0, suspend: true } }) as never);
  const suspended = await waitForTj('fraud-later', hasCondition('Suspended', 'True'), 'Suspended');
  expect(suspended.status?.phase).toBe('Suspended');
  expect(await podNames('fraud-later')).toEqual([]);
  await patchSpec('fraud-later', { runPolicy: { suspend: false } });
  const done = await waitForTj('fraud-later', (tj) => tj.status?.phase === 'Succeeded', 'Succeeded after resume');
  expect(condition(done as never, 'Suspended')?.status).toBe('False');
});

test('a finished run whose Job is cleaned up (ttlSecondsAfterFinished) keeps its record and is not run again', async () => {
  await objectApi().create(
    trainingJob('fraud-ttl', { runPolicy: { backoffLimit: 0, suspend: false, ttlSecondsAfterFinished: 0 } }) as never,
  );
  const done = await waitForTj('fraud-ttl', (tj) => tj.status?.phase === 'Succeeded', 'Succeeded');
  await waitForGone(`/apis/batch/v1/namespaces/${ns.name}/jobs`, 'the Job, removed by its TTL', byName('fraud-ttl'));
  // A spec change makes the controller act (and acknowledge the generation) after the Job is gone.
  await patchSpec('fraud-ttl', { runPolicy: { queueName: 'later' } });
  const acknowledged = await waitForTj(
    'fraud-ttl',
    (tj) => tj.status?.observedGeneration === 2,
    'generation 2 observed',
  );
  expect(acknowledged.status).toMatchObject({ phase: 'Succeeded', metrics: done.status?.metrics });
  expect(await jobNames('fraud-ttl')).toEqual([]);
});

test("multi-node runs as an Indexed Job with a headless Service and torchrun's environment; rank 0 reports", async () => {
  // Rank 1 reports other metrics than rank 0: the run's metrics must be rank 0's.
  const rankOneReport = { ...REPORT, metrics: { ...REPORT.metrics, val_auc: 0.5 } };
  await objectApi().create(
    trainingJob(
      'fraud-ddp',
      { nodes: 2, gpus: { count: 8, allocation: 'DevicePlugin', deviceClassName: 'gpu.nvidia.com' } },
      { 'sim.modelops.dev/message-rank-1': JSON.stringify(rankOneReport) },
    ) as never,
  );
  const job = await waitFor<V1Job>(
    `/apis/batch/v1/namespaces/${ns.name}/jobs`,
    () => true,
    'the Job',
    byName('fraud-ddp'),
  );
  expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2 });
  const env = Object.fromEntries(
    job.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value ?? e.valueFrom]),
  );
  expect(env).toMatchObject({
    MASTER_ADDR: 'fraud-ddp-0.fraud-ddp-workers',
    MASTER_PORT: '29500',
    WORLD_SIZE: '2',
    PET_NNODES: '2',
    PET_NPROC_PER_NODE: '8',
  });
  const service = await waitFor<V1Service>(
    `/api/v1/namespaces/${ns.name}/services`,
    () => true,
    'the workers Service',
    byName('fraud-ddp-workers'),
  );
  expect(service.spec).toMatchObject({ clusterIP: 'None', selector: { 'modelops.dev/trainingjob': 'fraud-ddp' } });
  const done = await waitForTj('fraud-ddp', (tj) => tj.status?.phase === 'Succeeded', 'Succeeded');
  expect(done.status?.gpus).toBe(16);
  expect(done.status?.metrics).toEqual(REPORT.metrics);
  expect(done.status?.headlineMetric).toBe('val_auc=0.961');
  // The ranks did report differently: the pod of index 1 carries rank 1's report.
  const messages = await kubectl([
    'get',
    'pods',
    '-n',
    ns.name,
    '-l',
    'modelops.dev/trainingjob=fraud-ddp',
    '-o',
    'jsonpath={range .items[*]}{.metadata.annotations.batch\\.kubernetes\\.io/job-completion-index}={.status.containerStatuses[0].state.terminated.message}{"\\n"}{end}',
  ]);
  const byRank = Object.fromEntries(
    messages.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), JSON.parse(line.slice(line.indexOf('=') + 1)) as unknown]),
  );
  expect(byRank).toEqual({ '0': REPORT, '1': rankOneReport });
  const { stdout } = await kubectl([
    'get',
    'pods',
    '-n',
    ns.name,
    '-l',
    'modelops.dev/trainingjob=fraud-ddp',
    '-o',
    'jsonpath={range .items[*]}{.spec.hostname} {.spec.nodeName}{"\\n"}{end}',
  ]);
  const pods = stdout.trim().split('\n').sort();
  expect(pods.map((line) => line.split(' ')[0])).toEqual(['fraud-ddp-0', 'fraud-ddp-1']);
  // Two pods of 8 GPUs each: one per H100 node.
  expect(pods.map((line) => line.split(' ')[1]).sort()).toEqual(['gpu-h100-0', 'gpu-h100-1']);
});

describe('the promotion gate', () => {
  const register = (version: string, threshold: number) => ({
    modelName: 'fraud',
    version,
    gate: [{ metric: 'val_auc', operator: '>=' as const, threshold }],
  });

  test('registers a ModelVersion with lineage when the metrics pass', async () => {
    await objectApi().create(trainingJob('fraud-good', { register: register('v7', 0.9) }) as never);
    const done = await waitForTj('fraud-good', hasCondition('Registered', 'True'), 'Registered');
    expect(done.status?.modelVersion).toBe('fraud-v7');
    expect(done.status?.gateMessage).toBe('gate passed: val_auc 0.961 >= 0.9');
    const mv = await waitFor<ModelVersion & { metadata: { name: string } }>(
      `/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/modelversions`,
      () => true,
      'the ModelVersion',
      byName('fraud-v7'),
    );
    expect(mv.spec).toMatchObject({
      model: 'fraud',
      version: 'v7',
      artifact: { uri: 'pvc://models/fraud/run/model.onnx', digest: REPORT.artifact.digest },
      reference: { uri: 'pvc://models/fraud/run/reference.json' },
      lineage: {
        trainingJob: 'fraud-good',
        image: 'ghcr.io/modelops/training:0.1.0',
        datasetUri: 'synthetic://fraud?rows=1000&seed=7',
        datasetVersion: 'v3',
        metrics: REPORT.metrics,
      },
    });
    await eventFor('fraud-good', 'Registered');
  });

  test("refuses a run that does not beat the model's stable version", async () => {
    // A stable version of another model name, so the other gate tests are unaffected.
    const stable = {
      apiVersion: 'modelops.dev/v1alpha1',
      kind: 'ModelVersion',
      metadata: { name: 'churn-v1', namespace: ns.name },
      spec: {
        model: 'churn',
        version: 'v1',
        artifact: { uri: 'pvc://models/churn/v1/model.onnx' },
        lineage: { metrics: { val_auc: 0.97 } },
      },
    };
    await objectApi().create(stable as never);
    const status = await kubectl([
      'patch',
      'mv',
      'churn-v1',
      '-n',
      ns.name,
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"role":"stable","phase":"Serving"}}',
    ]);
    expect(status.code).toBe(0);
    await objectApi().create(
      trainingJob('churn-next', {
        register: {
          modelName: 'churn',
          version: 'v2',
          gate: [],
          mustBeatStable: { metric: 'val_auc', higherIsBetter: true },
        },
      }) as never,
    );
    const refused = await waitForTj('churn-next', hasCondition('Registered', 'False', 'GateRefused'), 'gate refused');
    expect(refused.status?.gateMessage).toBe("gate failed: val_auc 0.961 does not beat the stable version's 0.97");
  });

  test('refuses, and says why, when the metrics miss the gate', async () => {
    await objectApi().create(trainingJob('fraud-weak', { register: register('v8', 0.99) }) as never);
    const refused = await waitForTj('fraud-weak', hasCondition('Registered', 'False', 'GateRefused'), 'gate refused');
    expect(refused.status?.gateMessage).toBe('gate failed: val_auc 0.961 is not >= 0.99');
    expect(refused.status?.modelVersion).toBeUndefined();
    const mv = await kubectl(['get', 'mv', 'fraud-v8', '-n', ns.name]);
    expect(mv.stderr).toMatch(/NotFound/);
    expect((await eventFor('fraud-weak', 'GateRefused')).type).toBe('Warning');
  });

  test("a hand-made ModelVersion already holding the name is someone else's: NameConflict, never Registered", async () => {
    const theirs = {
      apiVersion: 'modelops.dev/v1alpha1',
      kind: 'ModelVersion',
      metadata: { name: 'fraud-v9', namespace: ns.name },
      spec: { model: 'fraud', version: 'v9', artifact: { uri: 's3://elsewhere/model.onnx' } },
    };
    await objectApi().create(theirs as never);
    await objectApi().create(trainingJob('fraud-taken', { register: register('v9', 0.9) }) as never);
    const refused = await waitForTj('fraud-taken', hasCondition('Registered', 'False', 'NameConflict'), 'NameConflict');
    expect(refused.status?.modelVersion).toBeUndefined();
    expect(condition(refused as never, 'Registered')?.message).toMatch(
      /fraud-v9 already exists and was not registered by this TrainingJob/,
    );
    expect((await eventFor('fraud-taken', 'NameConflict')).type).toBe('Warning');
    const { stdout } = await kubectl(['get', 'mv', 'fraud-v9', '-n', ns.name, '-o', 'jsonpath={.spec.artifact.uri}']);
    expect(stdout).toBe('s3://elsewhere/model.onnx');
  });
});

describe('what the API server refuses after the CRD accepted it (here: a ValidatingAdmissionPolicy)', () => {
  // Platform teams' own admission rules refuse what the CRD cannot know about.
  const policy = () => `modelops-test-${ns.name}`;
  const manifests = () =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingAdmissionPolicy',
          metadata: { name: policy() },
          spec: {
            failurePolicy: 'Fail',
            matchConstraints: {
              resourceRules: [
                { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['jobs'] },
                {
                  apiGroups: ['modelops.dev'],
                  apiVersions: ['*'],
                  operations: ['CREATE'],
                  resources: ['modelversions'],
                },
              ],
            },
            validations: [
              {
                expression:
                  "request.kind.kind != 'Job' || object.metadata.?labels['kueue.x-k8s.io/queue-name'].orValue('') != 'closed'",
                message: 'queue closed is not open to this namespace',
              },
              {
                expression: "request.kind.kind != 'ModelVersion' || object.spec.version != 'frozen'",
                message: 'version frozen may not be registered here',
              },
            ],
          },
        },
        {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingAdmissionPolicyBinding',
          metadata: { name: policy() },
          spec: {
            policyName: policy(),
            validationActions: ['Deny'],
            matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.name } } },
          },
        },
      ],
    });
  beforeAll(async () => {
    const applied = await kubectl(['apply', '-f', '-'], manifests());
    if (applied.code !== 0) throw new Error(applied.stderr);
    // The policy takes effect once the API server's informer has it: probe with a dry run, backing off.
    const probe = JSON.stringify({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'probe', namespace: ns.name, labels: { 'kueue.x-k8s.io/queue-name': 'closed' } },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: 'x' }] } } },
    });
    for (let delayMs = 50; ; delayMs *= 2) {
      const dryRun = await kubectl(['create', '--dry-run=server', '-f', '-'], probe);
      if (dryRun.stderr.includes('queue closed is not open')) break;
      if (delayMs > 5_000) throw new Error(`the admission policy never took effect: ${dryRun.stderr || dryRun.stdout}`);
      await new Promise((r) => setTimeout(r, delayMs));
    }
  });
  afterAll(() => kubectl(['delete', '--ignore-not-found', '-f', '-'], manifests()));

  test('a Job the API server refuses: Failed=True with its message, a Warning, and no retrying', async () => {
    await objectApi().create(trainingJob('fraud-closed', { runPolicy: { queueName: 'closed' } }) as never);
    const failed = await waitForTj('fraud-closed', hasCondition('Failed', 'True', 'JobRejected'), 'JobRejected');
    expect(failed.status?.phase).toBe('Failed');
    expect(condition(failed as never, 'Failed')?.message).toMatch(
      /^the API server refused the Job: .*queue closed is not open to this namespace/,
    );
    expect(condition(failed as never, 'Finished')).toMatchObject({ status: 'True', reason: 'JobRejected' });
    expect((await eventFor('fraud-closed', 'JobRejected')).type).toBe('Warning');
  });

  test('a registration the API server refuses: the run stays Succeeded, is not rerun when its Job goes, and says why', async () => {
    await objectApi().create(
      trainingJob('fraud-frozen', {
        register: { modelName: 'fraud', version: 'frozen', gate: [] },
        runPolicy: { ttlSecondsAfterFinished: 0 },
      }) as never,
    );
    const refused = await waitForTj(
      'fraud-frozen',
      hasCondition('Registered', 'False', 'RegistrationRejected'),
      'RegistrationRejected',
    );
    expect(refused.status?.phase).toBe('Succeeded');
    expect(condition(refused as never, 'Registered')?.message).toMatch(/version frozen may not be registered here/);
    expect((await eventFor('fraud-frozen', 'RegistrationRejected')).type).toBe('Warning');
    await waitForGone(
      `/apis/batch/v1/namespaces/${ns.name}/jobs`,
      'the Job, removed by its TTL',
      byName('fraud-frozen'),
    );
    // A spec change makes the controller act again after the Job is gone: no second Job, no second run.
    await patchSpec('fraud-frozen', { runPolicy: { queueName: 'later' } });
    const acknowledged = await waitForTj('fraud-frozen', (tj) => tj.status?.observedGeneration === 2, 'generation 2');
    expect(acknowledged.status?.phase).toBe('Succeeded');
    expect(await jobNames('fraud-frozen')).toEqual([]);
    // The Job was created once, and said so once: one Created Event, no repeats in its series.
    const events = await getJson<{ items: { regarding?: { name?: string }; reason?: string; series?: unknown }[] }>(
      kubeConfig(),
      `/apis/events.k8s.io/v1/namespaces/${ns.name}/events`,
    );
    const created = events.items.filter((e) => e.regarding?.name === 'fraud-frozen' && e.reason === 'Created');
    expect(created).toHaveLength(1);
    expect(created[0]!.series).toBeUndefined();
  });
});

describe('GPUs through Dynamic Resource Allocation', () => {
  // What NVIDIA's DRA driver would publish: a DeviceClass and one ResourceSlice per GPU node.
  const deviceClass = {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'DeviceClass',
    metadata: { name: `gpu.nvidia.com-${ns.name}` },
    spec: { selectors: [{ cel: { expression: 'device.driver == "gpu.nvidia.com"' } }] },
  };
  const slice = (node: string, product: string, count: number) => ({
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceSlice',
    metadata: { name: `${node}-${ns.name}` },
    spec: {
      driver: 'gpu.nvidia.com',
      nodeName: node,
      pool: { name: `${node}-${ns.name}`, generation: 1, resourceSliceCount: 1 },
      devices: Array.from({ length: count }, (_, i) => ({
        name: `gpu-${i}`,
        attributes: { productName: { string: product }, index: { int: i } },
      })),
    },
  });
  const published = () => [
    deviceClass,
    slice('gpu-h100-1', 'NVIDIA-H100-80GB-HBM3', 8),
    slice('gpu-a100-0', 'NVIDIA-A100-SXM4-40GB', 4),
  ];

  // Through kubectl: client-node 1.4's serializer mangles DeviceAttribute values.
  const manifest = () => JSON.stringify({ apiVersion: 'v1', kind: 'List', items: published() });
  beforeAll(async () => {
    const applied = await kubectl(['apply', '-f', '-'], manifest());
    if (applied.code !== 0) throw new Error(applied.stderr);
  });
  afterAll(() => kubectl(['delete', '--ignore-not-found', '-f', '-'], manifest()));

  test('the scheduler allocates the claim from the published slices and places the pod on that node', async () => {
    await objectApi().create(
      trainingJob(
        'fraud-dra',
        {
          gpus: {
            count: 2,
            model: 'NVIDIA-A100-SXM4-40GB',
            allocation: 'DynamicResourceAllocation',
            deviceClassName: deviceClass.metadata.name,
          },
        },
        { 'sim.modelops.dev/run-for': '2s' },
      ) as never,
    );
    const template = await waitFor<{
      metadata: { name: string };
      spec: { spec: { devices: { requests: { exactly: unknown }[] } } };
    }>(
      `/apis/resource.k8s.io/v1/namespaces/${ns.name}/resourceclaimtemplates`,
      () => true,
      'the ResourceClaimTemplate',
      byName('fraud-dra-gpus'),
    );
    expect(template.spec.spec.devices.requests[0]!.exactly).toMatchObject({
      deviceClassName: deviceClass.metadata.name,
      count: 2,
    });

    const claim = await waitFor<{
      status?: { allocation?: { devices?: { results?: { device: string; pool: string }[] } } };
    }>(
      `/apis/resource.k8s.io/v1/namespaces/${ns.name}/resourceclaims`,
      (c) => !!c.status?.allocation,
      'an allocated ResourceClaim',
    );
    const results = claim.status!.allocation!.devices!.results!;
    expect(results).toHaveLength(2);
    expect(new Set(results.map((r) => r.pool))).toEqual(new Set([`gpu-a100-0-${ns.name}`]));

    const pod = await waitFor<V1Pod>(`/api/v1/namespaces/${ns.name}/pods`, (p) => !!p.spec?.nodeName, 'pod scheduled', {
      labelSelector: 'modelops.dev/trainingjob=fraud-dra',
    });
    expect(pod.spec!.nodeName).toBe('gpu-a100-0');
    expect(pod.spec!.containers[0]!.resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
    await waitForTj('fraud-dra', (tj) => tj.status?.phase === 'Succeeded', 'Succeeded');
  });
});

test('a reconcile that fails (a quota refuses the Job) tells the user in a Warning Event and is retried until it works', async () => {
  const quota = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'no-jobs', namespace: quotaNs.name },
    spec: { hard: { 'count/jobs.batch': '0' } },
  };
  await objectApi().create(quota as never);
  // the quota controller computes usage first; until then the quota admits nothing anyway
  const run = trainingJob('fraud-quota', { output: { uri: 's3://models/fraud', credentialsSecret: { name: 's3' } } });
  await objectApi().create({ ...run, metadata: { name: 'fraud-quota', namespace: quotaNs.name } } as never);
  const warning = await waitFor<{ reason?: string; type?: string; note?: string; regarding?: { name?: string } }>(
    `/apis/events.k8s.io/v1/namespaces/${quotaNs.name}/events`,
    (e) => e.regarding?.name === 'fraud-quota' && e.reason === 'ReconcileError',
    'the ReconcileError event',
  );
  expect(warning.type).toBe('Warning');
  expect(warning.note).toMatch(/^trainingjob controller: .*exceeded quota: no-jobs/);
  await objectApi().delete(quota as never);
  const done = await waitFor<TrainingJob>(
    `/apis/modelops.dev/v1alpha1/namespaces/${quotaNs.name}/trainingjobs`,
    (tj) => tj.status?.phase === 'Succeeded',
    'fraud-quota Succeeded after the quota went',
  );
  expect(condition(done as never, 'Created')?.status).toBe('True');
});
