// The TrainingJob reconciler's decisions, table by table, against the in-memory cluster: what it
// creates, what it writes to status, which Events it sends — including what the API server refuses.
import {
  AlreadyExistsError,
  ApiError,
  findCondition,
  NotFoundError,
  type KubernetesObject,
} from '../../runtime/index.js';
import { FakeClock, InMemoryCluster } from '../../runtime/testing/index.js';
import { resources, type ModelVersion, type TrainingJob, type TrainingJobSpec } from '../../api/index.js';
import { JOB, POD, RESOURCE_CLAIM_TEMPLATE, SERVICE, type Job } from '../resources.js';
import { trainingJobController } from './controller.js';
import { buildClaimTemplate, buildWorkersService } from './job.js';
import { ANNOTATION_TRAININGJOB_UID } from './register.js';
import { complete, pod, report, trainingJob } from './fixtures.test-helpers.js';

const TJ = resources.TrainingJob;
const MV = resources.ModelVersion;
const key = { namespace: 'ml', name: 'fraud-1' };
const controller = trainingJobController();
const invalid = (message: string) => new ApiError(422, 'Invalid', message);

function setup(spec: Partial<TrainingJobSpec> = {}, name = 'fraud-1') {
  const cluster = new InMemoryCluster();
  cluster.seed(TJ, trainingJob(spec, name));
  const tj = () => cluster.get<TrainingJob>(TJ, { namespace: 'ml', name })!;
  const reconcile = () => cluster.reconcile(controller, { namespace: 'ml', name });
  const conditions = () =>
    Object.fromEntries((tj().status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
  const events = () => cluster.events.map((e) => `${e.type} ${e.reason}`);
  /** The Job controller's part: the Job's status, and the pods it made. */
  const jobStatus = async (status: Job['status'], ...pods: KubernetesObject[]) => {
    const job = cluster.get<Job>(JOB, { namespace: 'ml', name });
    await cluster.client.updateStatus(JOB, { ...job!, status });
    if (pods.length) cluster.seed(POD, ...pods);
  };
  return { cluster, tj, reconcile, conditions, events, jobStatus };
}

const succeededPod = (metrics: Record<string, number> = { val_auc: 0.95 }) =>
  pod('Succeeded', {
    name: 'fraud-1-abc',
    terminated: { exitCode: 0, message: report(metrics, '/output/fraud/run/model.onnx') },
  });

describe('the run', () => {
  test('creates the Job once, says so once, and records the run through to Succeeded without ever going back', async () => {
    const { cluster, tj, reconcile, events, jobStatus } = setup();
    await reconcile();
    await reconcile(); // the cache already has the Job: nothing created twice
    expect(cluster.list(JOB)).toHaveLength(1);
    expect(tj().status?.phase).toBe('Pending');
    await jobStatus({ active: 1 }, pod('Running', { name: 'fraud-1-abc' }));
    await reconcile();
    expect(tj().status?.phase).toBe('Running');
    // the pod finished, the Job is not Complete yet: still Running, not back to Pending
    cluster.seed(POD, succeededPod());
    await jobStatus({ active: 0, succeeded: 1 });
    await reconcile();
    expect(tj().status?.phase).toBe('Running');
    await jobStatus(complete);
    await reconcile();
    expect(tj().status).toMatchObject({
      phase: 'Succeeded',
      jobName: 'fraud-1',
      gpus: 1,
      metrics: { val_auc: 0.95 },
      headlineMetric: 'val_auc=0.95',
      // one user-facing form: the URI the ModelVersion would serve from, not the container's path
      artifact: { uri: 'pvc://models/fraud/run/model.onnx' },
      observedGeneration: 1,
    });
    expect(events()).toEqual(['Normal Created', 'Normal Running', 'Normal Succeeded']);
    expect(cluster.logs).toEqual([{ level: 'info', job: 'fraud-1', msg: 'created Job' }]);
  });

  test('the pass that creates the Job says so in the one status write it makes', async () => {
    const { cluster, reconcile, conditions } = setup();
    await reconcile();
    expect(conditions()).toMatchObject({ Created: 'True/JobCreated', Running: 'False/Starting' });
    expect(cluster.writes.map((w) => `${w.verb} ${w.resource}`)).toEqual([
      'create jobs.batch/v1',
      'updateStatus trainingjobs.modelops.dev/v1alpha1',
    ]);
    await reconcile(); // the Job, as the watch brings it: nothing new to say
    expect(cluster.writes).toHaveLength(2);
  });

  test('terminal conditions agree with the phase: Succeeded, Finished and Ready on success', async () => {
    const { reconcile, conditions, jobStatus } = setup();
    await reconcile();
    await jobStatus(complete, succeededPod());
    await reconcile();
    expect(conditions()).toMatchObject({
      Created: 'True/JobCreated',
      Succeeded: 'True/Completed',
      Failed: 'False/Succeeded',
      Finished: 'True/Succeeded',
      Ready: 'True/Succeeded',
    });
  });

  test('an unreadable report: phase Failed with Failed=True, Finished=True, Ready=False', async () => {
    const { tj, reconcile, conditions, jobStatus, events } = setup();
    await reconcile();
    await jobStatus(complete, pod('Succeeded', { terminated: { exitCode: 0, message: 'Traceback' } }));
    await reconcile();
    expect(tj().status?.phase).toBe('Failed');
    expect(conditions()).toMatchObject({
      Succeeded: 'False/ReportUnreadable',
      Failed: 'True/ReportUnreadable',
      Finished: 'True/ReportUnreadable',
      Ready: 'False/ReportUnreadable',
    });
    expect(events()).toEqual(['Normal Created', 'Warning ReportUnreadable']);
  });

  test('ttlSecondsAfterFinished: the Job is deleted that long after the outcome is recorded, and the run is not repeated', async () => {
    const { cluster, tj, reconcile, jobStatus } = setup({ runPolicy: { ttlSecondsAfterFinished: 60 } });
    await reconcile();
    expect(cluster.get<Job>(JOB, key)!.spec?.ttlSecondsAfterFinished).toBeUndefined();
    await jobStatus(complete, succeededPod());
    await reconcile(); // records the outcome; its own status write brings the next pass
    expect(await reconcile()).toEqual({ requeueAfterMs: 60_000 }); // due a minute after it was recorded
    const recorded = tj().status;
    (cluster.clock as FakeClock).advance(60_000);
    await reconcile();
    expect(cluster.list(JOB)).toEqual([]);
    expect(cluster.logs.at(-1)).toEqual({
      level: 'info',
      job: 'fraud-1',
      ttlSeconds: 60,
      msg: 'deleted the finished Job (ttlSecondsAfterFinished)',
    });
    await reconcile();
    expect(cluster.list(JOB)).toEqual([]);
    expect(tj().status).toEqual(recorded);
  });

  test.each([
    ['already gone (404): fine', new NotFoundError(404, 'NotFound', 'jobs.batch "fraud-1" not found'), undefined],
    [
      'refused by a server error: thrown, for the runtime to retry',
      new ApiError(500, 'InternalError', 'etcd timeout'),
      'etcd timeout',
    ],
  ])('ttlSecondsAfterFinished: deleting the Job %s', async (_case, error, thrown) => {
    const { cluster, reconcile, jobStatus } = setup({ runPolicy: { ttlSecondsAfterFinished: 60 } });
    await reconcile();
    await jobStatus(complete, succeededPod());
    await reconcile();
    (cluster.clock as FakeClock).advance(60_000);
    cluster.interceptWrites((w) => (w.ref === JOB && w.verb === 'delete' ? error : undefined));
    if (thrown) await expect(reconcile()).rejects.toThrow(thrown);
    else await expect(reconcile()).resolves.toBeUndefined();
  });

  test('a TrainingJob being deleted, or gone: nothing is written or created (its children follow by owner reference)', async () => {
    const { cluster, reconcile } = setup();
    cluster.seed(TJ, {
      ...trainingJob(),
      metadata: { ...trainingJob().metadata, deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['x'] },
    });
    await expect(reconcile()).resolves.toBeUndefined();
    await expect(cluster.reconcile(controller, { namespace: 'ml', name: 'gone' })).resolves.toBeUndefined();
    expect(cluster.writes).toEqual([]);
  });

  test("another run's pods, in this namespace or another, are not this run's: its report is its own", async () => {
    const { cluster, tj, reconcile, jobStatus } = setup();
    await reconcile();
    const theirs = (name: string, namespace: string, run: string) => {
      const p = pod('Succeeded', {
        name,
        terminated: { exitCode: 0, message: report({ val_auc: 0.5 }, '/output/x.onnx') },
      });
      return { ...p, metadata: { ...p.metadata, namespace, labels: { 'modelops.dev/trainingjob': run } } };
    };
    cluster.seed(POD, theirs('fraud-2-0-x', 'ml', 'fraud-2'), theirs('fraud-1-0-y', 'other', 'fraud-1'));
    await jobStatus(complete, succeededPod());
    await reconcile();
    expect(tj().status).toMatchObject({ phase: 'Succeeded', metrics: { val_auc: 0.95 } });
  });

  test('a settled run: later passes write nothing, and without ttlSecondsAfterFinished its Job is kept', async () => {
    const { cluster, tj, reconcile, jobStatus } = setup();
    await reconcile();
    await jobStatus(complete, succeededPod());
    await reconcile();
    const recorded = tj().status;
    const writes = cluster.writes.length;
    (cluster.clock as FakeClock).advance(86_400_000);
    await reconcile();
    await reconcile();
    expect(cluster.writes).toHaveLength(writes);
    expect(tj().status).toEqual(recorded);
    expect(cluster.list(JOB)).toHaveLength(1);
    // A spec edited afterwards: observed, and nothing else said.
    const events = cluster.events.length;
    await cluster.client.patch(TJ, key, { spec: { image: 'ghcr.io/modelops/training:0.2.0' } });
    await reconcile();
    expect(tj().status).toEqual({ ...recorded, observedGeneration: 2 });
    expect(cluster.events).toHaveLength(events);
  });

  test('a failed run never registers, whatever spec.register says', async () => {
    const { cluster, tj, reconcile, conditions, jobStatus } = setup({ register: { modelName: 'fraud' } });
    await reconcile();
    await jobStatus(complete, pod('Succeeded', { terminated: { exitCode: 0, message: 'Traceback' } }));
    await reconcile();
    expect(tj().status?.phase).toBe('Failed');
    const writes = cluster.writes.length;
    await reconcile();
    expect(cluster.writes).toHaveLength(writes);
    expect(conditions().Registered).toBeUndefined();
    expect(cluster.list(MV)).toEqual([]);
  });

  test.each([
    [
      'not its own (its own went, another took the name)',
      (job: Job) => ({ ...job, metadata: { ...job.metadata, ownerReferences: [] } }),
    ],
    [
      'being deleted already',
      (job: Job) => ({
        ...job,
        metadata: { ...job.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'] },
      }),
    ],
  ])('ttlSecondsAfterFinished: a Job of its name %s is not deleted', async (_case, change) => {
    const { cluster, reconcile, jobStatus } = setup({ runPolicy: { ttlSecondsAfterFinished: 60 } });
    await reconcile();
    await jobStatus(complete, succeededPod());
    await reconcile();
    cluster.seed(JOB, change(cluster.get<Job>(JOB, key)!));
    (cluster.clock as FakeClock).advance(60_000);
    await reconcile();
    expect(cluster.writes.filter((w) => w.verb === 'delete')).toEqual([]);
  });

  test('ttlSecondsAfterFinished counts from completionTime where the status has no Finished condition (an older record)', async () => {
    const { cluster, reconcile } = setup({ runPolicy: { ttlSecondsAfterFinished: 60 } });
    const now = cluster.clock.now().getTime();
    cluster.seed(TJ, {
      ...trainingJob({ runPolicy: { ttlSecondsAfterFinished: 60 } }),
      status: { phase: 'Succeeded', completionTime: new Date(now - 20_000).toISOString() },
    });
    cluster.seed(JOB, {
      metadata: {
        ...key,
        ownerReferences: [{ apiVersion: 'modelops.dev/v1alpha1', kind: 'TrainingJob', name: 'fraud-1', uid: 'uid-1' }],
      },
      spec: { template: {} },
    });
    expect(await reconcile()).toEqual({ requeueAfterMs: 40_000 });
  });

  test('a Job deleted mid-run: Failed JobDeleted, and no second Job (the training is not repeated)', async () => {
    const { cluster, tj, reconcile, jobStatus, conditions } = setup();
    await reconcile();
    await jobStatus({ active: 1 }, pod('Running'));
    await reconcile();
    await cluster.client.delete(JOB, key);
    await reconcile();
    expect(cluster.list(JOB)).toEqual([]);
    expect(tj().status?.phase).toBe('Failed');
    expect(conditions()).toMatchObject({ Failed: 'True/JobDeleted', Finished: 'True/JobDeleted' });
  });

  test.each([
    ['without owner references', undefined],
    ['with an empty list of owners', []],
    ['owned by another object', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'uid-other' }]],
  ])(
    'a Job of the same name %s: Pending with NameConflict and a Warning, nothing overwritten',
    async (_case, owners) => {
      const { cluster, tj, reconcile, conditions, events } = setup();
      cluster.seed(JOB, { metadata: { ...key, ownerReferences: owners }, spec: { template: {} } });
      await reconcile();
      expect(tj().status?.phase).toBe('Pending');
      expect(conditions()).toMatchObject({ Created: 'False/NameConflict', Failed: 'False/Pending' });
      expect(findCondition(tj().status?.conditions, 'Created')?.message).toBe(
        'a Job named fraud-1 exists and is not owned by this TrainingJob; the run starts when it is gone',
      );
      await reconcile(); // nothing changed: said once
      expect(events()).toEqual(['Warning NameConflict']);
      expect(cluster.writes.filter((w) => w.resource === 'jobs.batch/v1')).toEqual([]);
    },
  );

  test('suspend and resume patch the Job; the phases go Suspended → Running', async () => {
    const { cluster, tj, reconcile, events } = setup({ runPolicy: { suspend: true } });
    await reconcile();
    await reconcile();
    expect(tj().status?.phase).toBe('Suspended');
    expect(cluster.get<Job>(JOB, key)!.spec?.suspend).toBe(true);
    await cluster.client.patch(TJ, key, { spec: { runPolicy: { suspend: false } } });
    await reconcile();
    expect(cluster.get<Job>(JOB, key)!.spec?.suspend).toBe(false);
    await reconcile();
    expect(tj().status?.phase).toBe('Running');
    expect(events()).toEqual(['Normal Created', 'Normal Suspended', 'Normal Resumed']);
  });
});

describe('objects the API server refuses', () => {
  test.each([
    ['Job', JOB, 'JobRejected', {}],
    ['Service', SERVICE, 'ServiceRejected', { nodes: 2 }],
    [
      'ResourceClaimTemplate',
      RESOURCE_CLAIM_TEMPLATE,
      'ClaimTemplateRejected',
      { gpus: { count: 2, allocation: 'DynamicResourceAllocation', deviceClassName: 'gpu.nvidia.com' } },
    ],
  ] as const)(
    'a refused %s: Failed with the server message in a condition and a Warning, not retried',
    async (kind, ref, reason, spec) => {
      const { cluster, tj, reconcile, conditions, events } = setup(spec);
      const message = `${kind}.batch "fraud-1" is invalid: metadata.labels: Invalid value: "bad queue": a valid label must be ...`;
      cluster.interceptWrites((w) => (w.ref === ref && w.verb === 'create' ? invalid(message) : undefined));
      await reconcile();
      expect(tj().status?.phase).toBe('Failed');
      expect(conditions()).toMatchObject({
        Created: `False/${reason}`,
        Failed: `True/${reason}`,
        Finished: `True/${reason}`,
      });
      expect(findCondition(tj().status?.conditions, 'Failed')?.message).toBe(
        `the API server refused the ${kind}: ${message}`,
      );
      expect(cluster.events).toEqual([
        expect.objectContaining({ type: 'Warning', reason, message: `the API server refused the ${kind}: ${message}` }),
      ]);
      await reconcile(); // settled: no second attempt
      expect(cluster.list(JOB)).toEqual([]);
      expect(events()).toHaveLength(1);
    },
  );

  test('a transient failure is thrown (the runtime retries with backoff) and nothing is recorded as final', async () => {
    const { cluster, tj, reconcile } = setup();
    cluster.interceptWrites((w) =>
      w.verb === 'create' ? new ApiError(500, 'InternalError', 'etcd timeout') : undefined,
    );
    await expect(reconcile()).rejects.toThrow('etcd timeout');
    expect(tj().status).toBeUndefined();
  });
});

describe('what a pass creates', () => {
  test('a multi-node DRA run whose claim template and workers Service an earlier pass created: only the Job is created', async () => {
    const spec = {
      nodes: 2,
      gpus: { count: 2, allocation: 'DynamicResourceAllocation' as const, deviceClassName: 'gpu.nvidia.com' },
    };
    const { cluster, tj, reconcile } = setup(spec);
    cluster.seed(RESOURCE_CLAIM_TEMPLATE, buildClaimTemplate(tj())!);
    cluster.seed(SERVICE, buildWorkersService(tj())! as KubernetesObject);
    const creates: string[] = [];
    cluster.interceptWrites(({ verb, ref }) => {
      if (verb === 'create') creates.push(ref.kind);
      return undefined;
    });
    await reconcile();
    expect(creates).toEqual(['Job']);
    expect(tj().status?.phase).toBe('Pending');
  });

  test('a multi-node run: the workers Service, then the Job', async () => {
    const { cluster, tj, reconcile } = setup({ nodes: 2 });
    await reconcile();
    expect(cluster.writes.filter((w) => w.verb === 'create').map((w) => w.resource)).toEqual([
      'services/v1',
      'jobs.batch/v1',
    ]);
    expect(tj().status?.phase).toBe('Pending');
  });

  test('a Job of its name created by someone else between the cache read and the create: not taken for its own', async () => {
    const { cluster, tj, reconcile, conditions } = setup();
    cluster.interceptWrites(({ verb, ref, object }) => {
      if (ref !== JOB || verb !== 'create') return undefined;
      cluster.seed(JOB, {
        ...object!,
        metadata: { ...key, ownerReferences: [] },
        status: complete,
      } as KubernetesObject);
      return new AlreadyExistsError(409, 'AlreadyExists', 'jobs.batch "fraud-1" already exists');
    });
    await reconcile();
    expect(tj().status?.phase).toBe('Pending');
    await reconcile();
    expect(conditions()).toMatchObject({ Created: 'False/NameConflict' });
  });
});

describe('Dynamic Resource Allocation', () => {
  const dra = {
    gpus: { count: 2, allocation: 'DynamicResourceAllocation' as const, deviceClassName: 'gpu.nvidia.com' },
  };

  test('not served: Pending with DRAUnavailable and a Warning; once served, the claim template and Job are created', async () => {
    const { cluster, tj, reconcile, conditions, events } = setup(dra);
    cluster.setAvailable(RESOURCE_CLAIM_TEMPLATE, false);
    await reconcile();
    expect(tj().status?.phase).toBe('Pending');
    expect(conditions()).toMatchObject({ Created: 'False/DRAUnavailable', Finished: 'False/Pending' });
    expect(findCondition(tj().status?.conditions, 'Created')?.message).toMatch(/does not serve resource\.k8s\.io\/v1/);
    expect(events()).toEqual(['Warning DRAUnavailable']);
    expect(cluster.list(JOB)).toEqual([]);

    cluster.setAvailable(RESOURCE_CLAIM_TEMPLATE, true);
    await reconcile();
    expect(cluster.list(RESOURCE_CLAIM_TEMPLATE).map((t) => t.metadata?.name)).toEqual(['fraud-1-gpus']);
    expect(cluster.list(JOB)).toHaveLength(1);
  });

  test('a plain run does not need DRA at all', async () => {
    const { cluster, reconcile } = setup();
    cluster.setAvailable(RESOURCE_CLAIM_TEMPLATE, false);
    await reconcile();
    expect(cluster.list(JOB)).toHaveLength(1);
  });
});

describe('registration', () => {
  const gate = { modelName: 'fraud', gate: [{ metric: 'val_auc', operator: '>=' as const, threshold: 0.9 }] };

  async function succeed(s: ReturnType<typeof setup>, metrics?: Record<string, number>) {
    await s.reconcile();
    await s.jobStatus(complete, succeededPod(metrics));
    await s.reconcile();
  }

  test('registers a ModelVersion whose artifact is the URI the run recorded, with whose it is', async () => {
    const s = setup({ register: { ...gate, version: 'v7' } });
    await succeed(s);
    const mv = s.cluster.get<ModelVersion>(MV, { namespace: 'ml', name: 'fraud-v7' })!;
    expect(mv.spec.artifact.uri).toBe(s.tj().status?.artifact?.uri);
    expect(mv.metadata.annotations?.[ANNOTATION_TRAININGJOB_UID]).toBe('uid-1');
    expect(s.tj().status).toMatchObject({ modelVersion: 'fraud-v7', gateMessage: 'gate passed: val_auc 0.95 >= 0.9' });
    expect(s.conditions()).toMatchObject({ Registered: 'True/GatePassed', Finished: 'True/Succeeded' });
    expect(s.events()).toEqual(['Normal Created', 'Normal Succeeded', 'Normal Registered']);
  });

  test("someone else's ModelVersion under that name: NameConflict, never Registered=True", async () => {
    const s = setup({ register: { ...gate, version: 'v7' } });
    s.cluster.seed(MV, {
      metadata: { namespace: 'ml', name: 'fraud-v7' },
      spec: { model: 'churn', version: 'v7', artifact: { uri: 's3://other/model.onnx' } },
    });
    const creates: string[] = [];
    s.cluster.interceptWrites(({ verb, ref }) => {
      if (verb === 'create' && ref === MV) creates.push(ref.kind);
      return undefined;
    });
    await succeed(s);
    expect(creates).toEqual([]); // the cache showed the name taken: nothing sent
    expect(s.conditions()).toMatchObject({ Registered: 'False/NameConflict', Succeeded: 'True/Completed' });
    expect(s.tj().status?.modelVersion).toBeUndefined();
    expect(s.events()).toContain('Warning NameConflict');
    expect(s.events()).not.toContain('Normal Registered');
    expect(s.cluster.get<ModelVersion>(MV, { namespace: 'ml', name: 'fraud-v7' })!.spec.model).toBe('churn');
  });

  test('a registration the API server refuses: the run stays recorded Succeeded, Registered=False with the message', async () => {
    const s = setup({ register: gate });
    s.cluster.interceptWrites((w) =>
      w.ref === MV
        ? invalid('ModelVersion.modelops.dev "fraud-fraud-1" is invalid: spec.version: Too long')
        : undefined,
    );
    await succeed(s);
    expect(s.tj().status).toMatchObject({ phase: 'Succeeded', gateMessage: 'gate passed: val_auc 0.95 >= 0.9' });
    expect(s.conditions()).toMatchObject({ Registered: 'False/RegistrationRejected', Finished: 'True/Succeeded' });
    expect(findCondition(s.tj().status?.conditions, 'Registered')?.message).toMatch(/spec\.version: Too long/);
    expect(s.events()).toContain('Warning RegistrationRejected');
    // its Job deleted by a TTL afterwards: no second training run
    await s.cluster.client.delete(JOB, key);
    await s.reconcile();
    expect(s.cluster.list(JOB)).toEqual([]);
  });

  test('a registration that fails transiently: the run is recorded first, then it is retried and registers', async () => {
    const s = setup({ register: gate });
    let down = true;
    s.cluster.interceptWrites((w) =>
      down && w.ref === MV ? new ApiError(503, 'ServiceUnavailable', 'try later') : undefined,
    );
    await s.reconcile();
    await s.jobStatus(complete, succeededPod());
    await expect(s.reconcile()).rejects.toThrow('try later');
    expect(s.tj().status?.phase).toBe('Succeeded');
    expect(s.conditions()).toMatchObject({ Registered: 'Unknown/Registering', Finished: 'False/Registering' });
    // the pods are gone by the retry: the recorded outcome is enough
    for (const p of s.cluster.list(POD))
      await s.cluster.client.delete(POD, { namespace: 'ml', name: p.metadata!.name! });
    down = false;
    await s.reconcile();
    // Every condition as the run recorded it, with the registration's: a retry asserts nothing else.
    expect(s.conditions()).toEqual({
      Created: 'True/JobCreated',
      Running: 'False/Completed',
      Suspended: 'False/Completed',
      Succeeded: 'True/Completed',
      Failed: 'False/Succeeded',
      Finished: 'True/Succeeded',
      Ready: 'True/Succeeded',
      Registered: 'True/GatePassed',
    });
    expect(s.cluster.list(MV)).toHaveLength(1);
  });

  // The cache lags the API server: the ModelVersion may exist though the cache did not show it.
  test.each([
    [
      'this TrainingJob’s (an earlier pass whose status write failed)',
      { [ANNOTATION_TRAININGJOB_UID]: 'uid-1' },
      'True/GatePassed',
      'fraud-v7',
    ],
    ['someone else’s', {}, 'False/NameConflict', undefined],
  ])('a ModelVersion created meanwhile, %s', async (_case, annotations, registered, modelVersion) => {
    const s = setup({ register: { ...gate, version: 'v7' } });
    s.cluster.interceptWrites(({ verb, ref, object }) => {
      if (ref !== MV || verb !== 'create') return undefined;
      s.cluster.seed(MV, { ...object!, metadata: { ...object!.metadata, annotations } });
      return new AlreadyExistsError(409, 'AlreadyExists', 'modelversions.modelops.dev "fraud-v7" already exists');
    });
    await succeed(s);
    expect(s.conditions()).toMatchObject({ Registered: registered, Succeeded: 'True/Completed' });
    expect(s.tj().status?.modelVersion).toBe(modelVersion);
  });

  test('a registration already recorded while the run still shows Running (a restored status): kept, not made again', async () => {
    const s = setup({ register: { ...gate, version: 'v7' } });
    await s.reconcile();
    const registered = {
      type: 'Registered',
      status: 'True',
      reason: 'GatePassed',
      message: 'registered ModelVersion fraud-v7: gate passed: val_auc 0.95 >= 0.9',
      observedGeneration: 1,
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    const status = s.tj().status!;
    s.cluster.seed(TJ, {
      ...s.tj(),
      status: { ...status, conditions: [...status.conditions!, registered], modelVersion: 'fraud-v7' },
    });
    await s.jobStatus(complete, succeededPod());
    await s.reconcile();
    expect(s.cluster.list(MV)).toEqual([]);
    expect(s.tj().status).toMatchObject({ phase: 'Succeeded', modelVersion: 'fraud-v7' });
    expect(s.conditions()).toMatchObject({ Registered: 'True/GatePassed', Finished: 'True/Succeeded' });
  });

  test('no artifact reported: NoArtifact, nothing registered', async () => {
    const s = setup({ register: gate });
    await s.reconcile();
    await s.jobStatus(
      complete,
      pod('Succeeded', { terminated: { exitCode: 0, message: '{"metrics":{"val_auc":0.95}}' } }),
    );
    await s.reconcile();
    expect(s.conditions()).toMatchObject({ Registered: 'False/NoArtifact' });
    expect(s.cluster.list(MV)).toEqual([]);
  });

  test("must beat stable: the model's stable version is found through the cache index; a tie does not beat it", async () => {
    const stable = (model: string, name: string, auc: number) => ({
      metadata: { namespace: 'ml', name },
      spec: { model, version: 'v1', artifact: { uri: 'pvc://m/x' }, lineage: { metrics: { val_auc: auc } } },
      status: { role: 'stable' },
    });
    const s = setup({ register: { modelName: 'fraud', mustBeatStable: { metric: 'val_auc', higherIsBetter: true } } });
    // Another model's stable, and a version of this model that is not stable (listed first), are not compared with.
    const retired = { ...stable('fraud', 'fraud-v0', 0.5), status: { role: 'none' } };
    s.cluster.seed(MV, stable('churn', 'churn-v1', 0.5), retired, stable('fraud', 'fraud-v1', 0.95));
    await succeed(s, { val_auc: 0.95 });
    expect(s.conditions()).toMatchObject({ Registered: 'False/GateRefused' });
    expect(s.tj().status?.gateMessage).toBe("gate failed: val_auc 0.95 does not beat the stable version's 0.95");
  });

  test('must beat stable: a stable version applied by hand (no lineage) recorded nothing to beat', async () => {
    const s = setup({ register: { modelName: 'fraud', mustBeatStable: { metric: 'val_auc', higherIsBetter: true } } });
    s.cluster.seed(MV, {
      metadata: { namespace: 'ml', name: 'fraud-v2' },
      spec: { model: 'fraud', version: 'v2', artifact: { uri: 'pvc://m/x' } },
      status: { role: 'stable' },
    });
    await succeed(s, { val_auc: 0.95 });
    expect(s.tj().status?.gateMessage).toBe('gate passed: the stable version recorded no val_auc to beat');
  });

  test('a refusal is decided again when the spec changes (another version), and then registers', async () => {
    const s = setup({ register: { ...gate, version: 'v7' } });
    s.cluster.seed(MV, { metadata: { namespace: 'ml', name: 'fraud-v7' }, spec: { model: 'fraud', version: 'v7' } });
    await succeed(s);
    expect(s.conditions()).toMatchObject({ Registered: 'False/NameConflict' });
    await s.reconcile(); // same generation: decided, nothing new
    expect(s.cluster.list(MV)).toHaveLength(1);
    await s.cluster.client.patch(TJ, key, { spec: { register: { version: 'v8' } } });
    await s.reconcile();
    expect(s.conditions()).toMatchObject({ Registered: 'True/GatePassed' });
    expect(s.tj().status?.modelVersion).toBe('fraud-v8');
  });
});

describe('what wakes a TrainingJob', () => {
  const [pods, jobs] = controller.watches!;
  const meta = (metadata: KubernetesObject['metadata']): KubernetesObject => ({ metadata });
  const cache = new InMemoryCluster().context(controller).cache;

  test('its pods, by the label the Job template gives them, and only those pods are cached', () => {
    expect(pods!.resource).toBe(POD);
    expect(pods!.labelSelector).toBe('modelops.dev/trainingjob');
    expect(
      pods!.map(
        meta({ namespace: 'ml', name: 'fraud-1-0-x', labels: { 'modelops.dev/trainingjob': 'fraud-1' } }),
        cache,
      ),
    ).toEqual([{ namespace: 'ml', name: 'fraud-1' }]);
    expect(pods!.map(meta({ namespace: 'ml', name: 'other', labels: {} }), cache)).toEqual([]);
    expect(pods!.map(meta({ name: 'x', labels: { 'modelops.dev/trainingjob': 'fraud-1' } }), cache)).toEqual([]);
    expect(pods!.map(meta({ namespace: 'ml', name: 'x' }), cache)).toEqual([]);
    expect(pods!.map({}, cache)).toEqual([]);
  });

  test('a Job of its name, whoever owns it (one not ours blocks the run until it goes)', () => {
    expect(jobs!.resource).toBe(JOB);
    expect(jobs!.map(meta({ namespace: 'ml', name: 'fraud-1' }), cache)).toEqual([
      { namespace: 'ml', name: 'fraud-1' },
    ]);
    expect(jobs!.map(meta({ namespace: 'ml' }), cache)).toEqual([]);
    expect(jobs!.map({}, cache)).toEqual([]);
  });

  test('it owns its Job and workers Service, and the claim template where DRA is served', () => {
    expect(controller.name).toBe('trainingjob');
    expect(controller.for).toBe(TJ);
    expect(controller.owns).toEqual([JOB, SERVICE, { resource: RESOURCE_CLAIM_TEMPLATE, optional: true }]);
  });
});
