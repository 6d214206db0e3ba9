// The operator as it ships: its own entry point as a process, out of cluster against the bed.
// Structured logs, /healthz, /readyz, /metrics with controller-runtime's names, a Lease while it
// leads, and a clean exit on SIGTERM that hands the Lease back.
import type { V1Lease } from '@kubernetes/client-node';
import type { TrainingJob } from '../../operator/src/api/index.js';
import { objectApi, useNamespace, waitFor } from '../harness/cluster.js';
import { startOperator, type OperatorProcess } from './operator.test-helpers.js';

const ns = useNamespace('operator');
let operator: OperatorProcess;

beforeAll(async () => {
  operator = await startOperator(['--leader-elect', `--leader-election-namespace=${ns.name}`], {
    POD_NAME: 'operator-under-test',
  });
});

afterAll(() => {
  if (operator.process.exitCode === null) operator.process.kill('SIGKILL');
});

test('logs are structured JSON with level, time and message', () => {
  expect(operator.logs.length).toBeGreaterThan(0);
  for (const line of operator.logs)
    expect(line).toEqual(
      expect.objectContaining({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String) }),
    );
});

test('/healthz and /readyz answer ok once the caches are synced', async () => {
  await operator.logLine((l) => l.msg === 'caches synced');
  for (const path of ['/healthz', '/readyz']) {
    const res = await fetch(`http://127.0.0.1:${operator.ports.health}${path}`);
    expect(res.status).toBe(200);
  }
});

test('it takes the Lease in its namespace, reconciles, and says so in /metrics', async () => {
  const lease = await waitFor<V1Lease>(
    `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases`,
    (l) => l.spec?.holderIdentity === 'operator-under-test',
    'the Lease held',
  );
  expect(lease.metadata?.name).toBe('modelops-operator');
  await objectApi().create({
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'TrainingJob',
    metadata: { name: 'counted', namespace: ns.name },
    spec: {
      image: 'trainer:1',
      dataset: { uri: 'synthetic://fraud' },
      output: { uri: 's3://b/m', credentialsSecret: { name: 's' } },
      gpus: { count: 0 },
    },
  } as never);
  await waitFor<TrainingJob>(
    `/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/trainingjobs`,
    (tj) => tj.status?.observedGeneration === 1,
    'the TrainingJob reconciled',
  );
  const metrics = await (await fetch(`http://127.0.0.1:${operator.ports.metrics}/metrics`)).text();
  expect(metrics).toMatch(/^leader_election_master_status\{name="modelops-operator"\} 1$/m);
  // counted: at least one successful reconcile (the counter starts at 0, so \d+ would prove nothing)
  expect(metrics).toMatch(
    /^controller_runtime_reconcile_total\{controller="trainingjob",result="success"\} [1-9]\d*$/m,
  );
  for (const controller of ['trainingjob', 'modelversion', 'driftmonitor']) {
    // every controller's series exist from the start, as in controller-runtime (rate() works at once)
    for (const result of ['success', 'error', 'requeue', 'requeue_after'])
      expect(metrics).toContain(`controller_runtime_reconcile_total{controller="${controller}",result="${result}"}`);
    expect(metrics).toMatch(
      new RegExp(`^controller_runtime_max_concurrent_reconciles\\{controller="${controller}"\\} 32$`, 'm'),
    );
    expect(metrics).toMatch(new RegExp(`^workqueue_depth\\{name="${controller}"\\} \\d+$`, 'm'));
  }
  expect(metrics).toMatch(/^# TYPE controller_runtime_reconcile_time_seconds histogram$/m);
});

test('SIGTERM stops it cleanly and hands the Lease back', async () => {
  expect(await operator.stop()).toBe(0);
  const released = await waitFor<V1Lease>(
    `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases`,
    (l) => !l.spec?.holderIdentity,
    'the Lease released',
  );
  expect(released.spec?.holderIdentity).toBeFalsy();
});
