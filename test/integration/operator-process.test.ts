// The operator as it ships: its own entry point as a process, out of cluster against the bed.
// Structured logs, /healthz, /readyz, /metrics with controller-runtime's names, a Lease while it
// leads, and a clean exit on SIGTERM that hands the Lease back.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { V1Lease } from '@kubernetes/client-node';
import { useNamespace, waitFor } from '../harness/cluster.js';
import { repoRoot } from '../harness/paths.js';

const ns = useNamespace('operator');
let operator: ChildProcess;
const logs: Record<string, unknown>[] = [];
let ports: { metrics: number; health: number };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves with the first log line the predicate accepts (logs are JSON, one object a line). */
function logLine(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const seen = logs.find(predicate);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const onLine = () => {
      const hit = logs.find(predicate);
      if (hit) {
        operator.stdout!.off('data', onLine);
        resolve(hit);
      }
    };
    operator.stdout!.on('data', () => setImmediate(onLine));
    operator.once('exit', (code) =>
      reject(new Error(`the operator exited (${code}) first; logs: ${JSON.stringify(logs.slice(-5))}`)),
    );
  });
}

beforeAll(async () => {
  ports = { metrics: await freePort(), health: await freePort() };
  operator = spawn(
    'node',
    [
      '--import',
      'tsx',
      'operator/src/main.ts',
      '--leader-elect',
      `--leader-election-namespace=${ns.name}`,
      `--metrics-port=${ports.metrics}`,
      `--health-port=${ports.health}`,
    ],
    { cwd: repoRoot, env: { ...process.env, POD_NAME: 'operator-under-test' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  createInterface({ input: operator.stdout! }).on('line', (line) =>
    logs.push(JSON.parse(line) as Record<string, unknown>),
  );
  await logLine((l) => l.msg === 'modelops operator started');
});

afterAll(() => {
  if (operator.exitCode === null) operator.kill('SIGKILL');
});

test('logs are structured JSON with level, time and message', () => {
  expect(logs.length).toBeGreaterThan(0);
  for (const line of logs)
    expect(line).toEqual(
      expect.objectContaining({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String) }),
    );
});

test('/healthz and /readyz answer ok once the caches are synced', async () => {
  await logLine((l) => l.msg === 'caches synced');
  for (const path of ['/healthz', '/readyz']) {
    const res = await fetch(`http://127.0.0.1:${ports.health}${path}`);
    expect(res.status).toBe(200);
  }
});

test('it takes the Lease in its namespace and says so in /metrics', async () => {
  const lease = await waitFor<V1Lease>(
    `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases`,
    (l) => l.spec?.holderIdentity === 'operator-under-test',
    'the Lease held',
  );
  expect(lease.metadata?.name).toBe('modelops-operator');
  const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
  expect(metrics).toMatch(/^leader_election_master_status\{name="modelops-operator"\} 1$/m);
  for (const controller of ['trainingjob', 'modelversion', 'driftmonitor']) {
    expect(metrics).toMatch(
      new RegExp(`^controller_runtime_reconcile_total\\{controller="${controller}",result="success"\\} \\d+$`, 'm'),
    );
    expect(metrics).toMatch(
      new RegExp(`^controller_runtime_max_concurrent_reconciles\\{controller="${controller}"\\} 4$`, 'm'),
    );
    expect(metrics).toMatch(new RegExp(`^workqueue_depth\\{name="${controller}"\\} \\d+$`, 'm'));
  }
  expect(metrics).toMatch(/^# TYPE controller_runtime_reconcile_time_seconds histogram$/m);
});

test('SIGTERM stops it cleanly and hands the Lease back', async () => {
  const exited = new Promise<number | null>((resolve) => operator.once('exit', (code) => resolve(code)));
  operator.kill('SIGTERM');
  expect(await exited).toBe(0);
  const released = await waitFor<V1Lease>(
    `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases`,
    (l) => !l.spec?.holderIdentity,
    'the Lease released',
  );
  expect(released.spec?.holderIdentity).toBeFalsy();
});
