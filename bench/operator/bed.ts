// What the operator benches share. The operator runs as it ships — compiled (`tsc`, as operator/Dockerfile
// builds it), its own entry point as a process, with --leader-elect — and as it runs in a cluster: with
// its own ServiceAccount token and the chart's RBAC, so the kube-apiserver's priority and fairness treat
// it like any workload (the bed's admin certificate is exempt from it). Its requests are counted by the
// kube-apiserver itself: an audit log of that ServiceAccount's requests (the bench turns it on by
// restarting the bed's kube-apiserver with the audit flags once). The bench's own reads and creates go
// through the admin kubeconfig and the runtime's keep-alive client.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
  openSync,
  readSync,
  closeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import { dump, loadAll } from 'js-yaml';
import { RestClient } from '../../operator/src/runtime/client.js';
import { RestTransport } from '../../operator/src/runtime/rest.js';
import {
  isAlreadyExists,
  isNotFound,
  type KubernetesObject,
  type ResourceRef,
} from '../../operator/src/runtime/index.js';
import { bedScript, repoRoot } from '../../test/harness/paths.js';

/** Where the operator's ServiceAccount, RBAC and Lease live. */
export const OPERATOR_NAMESPACE = 'modelops-bench';
const RELEASE = 'bench';
const SERVICE_ACCOUNT = `${RELEASE}-operator`;
const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${SERVICE_ACCOUNT}`;
/** The operator's kubeconfig (a token of one bed's ServiceAccount) and logs: one directory per bed. */
const benchDir = join(repoRoot, '.cache', 'bench', 'operator', process.env.MODELOPS_TESTBED_NAME ?? 'default');

export const NAMESPACE: ResourceRef = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};

export function kubeconfigPath(): string {
  const path = process.env.KUBECONFIG;
  if (!path) throw new Error('KUBECONFIG is not set: eval "$(bash test/bed/testbed.sh env)" first');
  return path;
}

/** The bed's cluster directory (testbed.sh keeps pids, logs and command lines there). */
function clusterDir(): string {
  return join(dirname(kubeconfigPath()), 'clusters', process.env.MODELOPS_TESTBED_NAME ?? 'modelops');
}

export function kubectl(args: string[], input?: string): string {
  return execFileSync('bash', [bedScript, 'kubectl', ...args], {
    encoding: 'utf8',
    input,
    maxBuffer: 64 << 20,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** The TrainingJob every bench creates: a CPU run whose simulated pod reports a metric and succeeds. */
export const benchTrainingJob = (namespace: string, name: string): KubernetesObject => ({
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'TrainingJob',
  metadata: { name, namespace },
  spec: {
    image: 'ghcr.io/modelops/training:0.1.0',
    dataset: { uri: 'synthetic://fraud?rows=10000' },
    output: { uri: 's3://models/bench', credentialsSecret: { name: 's3' } },
    gpus: { count: 0 },
    resources: { cpu: '100m', memory: '256Mi' },
    podMetadata: { annotations: { 'sim.modelops.dev/message': '{"metrics":{"val_auc":0.93}}' } },
  },
});

/** A client on the runtime's keep-alive transport with the credentials of the kubeconfig at `path`. */
export function kubeconfigClient(path: string): RestClient {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  return new RestClient(new RestTransport(kubeConfig));
}

/** The bench's own client: the bed's admin credentials, one keep-alive connection pool. */
export const adminClient = () => kubeconfigClient(kubeconfigPath());

/**
 * Everything a bench needs before it starts the operator; each step is skipped when already done:
 * the CRDs, the audit log, the operator's ServiceAccount + RBAC + kubeconfig, the compiled operator.
 */
export function prepareBed(): { operatorKubeconfig: string; auditLog: string } {
  mkdirSync(benchDir, { recursive: true });
  kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(repoRoot, 'crds')]);
  kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(repoRoot, 'crds')]);
  ensureServingCapacity();
  const auditLog = ensureAuditLog();
  const operatorKubeconfig = ensureOperatorIdentity();
  operatorCommand = buildOperator();
  return { operatorKubeconfig, auditLog };
}

/** Simulated nodes for the population's serving pods: 2000 ModelVersions need 2000 pods, kubelet's default is 110 a node. */
const BENCH_NODES = 20;

/**
 * Adds BENCH_NODES kwok CPU nodes (110 pods each) beside the bed's own, so every ModelVersion of the
 * population gets its pod and settles: a version left Pending for want of nodes is not an idle one.
 */
function ensureServingCapacity(): void {
  const node = (i: number) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: `bench-${i}`,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: { 'kubernetes.io/hostname': `bench-${i}`, 'kubernetes.io/os': 'linux', type: 'kwok' },
    },
    status: {
      capacity: { cpu: '32', memory: '128Gi', pods: '110' },
      allocatable: { cpu: '32', memory: '128Gi', pods: '110' },
    },
  });
  const nodes = Array.from({ length: BENCH_NODES }, (_, i) => dump(node(i))).join('---\n');
  kubectl(['apply', '--server-side', '-f', '-'], nodes);
}

/**
 * The checkout whose operator runs: this one, or another given by --operator-root (e.g. an earlier commit
 * unpacked with `git archive`, its node_modules linked), for "before" figures on the same bed.
 */
export const operatorRoot = argValue('operator-root', repoRoot);

/** `node` flags added to the image's, e.g. --node-flags='--cpu-prof --cpu-prof-dir=/tmp/prof' for a CPU profile. */
const NODE_FLAGS = argValue('node-flags', '').split(' ').filter(Boolean);

/**
 * Builds the checkout's operator as its Dockerfile does: the bundle (`npm run build:operator`), copied
 * alone into a directory of its own as in the image (no node_modules to fall back on) — or, for a checkout
 * from before the bundle, tsc's output in dist/. Returns the command line that runs it.
 */
function buildOperator(): string[] {
  const scripts = (
    JSON.parse(readFileSync(join(operatorRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  if (!scripts['build:operator']) {
    execFileSync(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', writeBuildConfig()], { stdio: 'inherit' });
    return [join(operatorRoot, 'dist/operator/src/main.js')];
  }
  execFileSync('npm', ['run', '--silent', 'build:operator'], { cwd: operatorRoot, stdio: 'inherit' });
  const image = mkdtempSync(join(tmpdir(), 'modelops-operator-image-'));
  copyFileSync(join(operatorRoot, 'dist/operator/main.mjs'), join(image, 'main.mjs'));
  return [...NODE_FLAGS, ...imageEntrypoint().map((arg) => (arg === 'main.mjs' ? join(image, arg) : arg))];
}

/** The image's `node` flags and script, from operator/Dockerfile's ENTRYPOINT (the V8 flags it ships with count). */
function imageEntrypoint(): string[] {
  const dockerfile = readFileSync(join(operatorRoot, 'operator/Dockerfile'), 'utf8');
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  if (!entrypoint) throw new Error('operator/Dockerfile has no ENTRYPOINT ["node", ...]');
  const [node, ...args] = JSON.parse(entrypoint) as string[];
  if (node !== 'node' || !args.includes('main.mjs')) throw new Error(`unexpected ENTRYPOINT ${entrypoint}`);
  return args;
}

/** A tsconfig compiling the checkout's operator/src (tests left out) to its dist/. */
function writeBuildConfig(): string {
  const file = join(operatorRoot, '.bench-tsconfig.json');
  writeFileSync(
    file,
    JSON.stringify({
      extends: './tsconfig.json',
      compilerOptions: { rootDir: '.', outDir: 'dist', types: ['node'], sourceMap: false },
      include: ['operator/src'],
      exclude: ['operator/src/**/*.test.ts', 'operator/src/**/*.test-helpers.ts', 'operator/src/runtime/testing'],
    }),
  );
  return file;
}

/** Restarts the bed's kube-apiserver with an audit log of the operator's requests unless it has one. */
function ensureAuditLog(): string {
  const dir = clusterDir();
  const auditLog = join(dir, 'logs', 'bench-audit.log');
  const pid = readFileSync(join(dir, 'pids', 'kube-apiserver.pid'), 'utf8').trim();
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  if (cmdline.includes(`--audit-log-path=${auditLog}`)) return auditLog;
  const policy = join(dir, 'bench-audit-policy.yaml');
  writeFileSync(
    policy,
    dump({
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      // One line per finished request (a watch: when it ends).
      omitStages: ['RequestReceived', 'ResponseStarted'],
      rules: [{ level: 'Metadata', users: [OPERATOR_USER] }, { level: 'None' }],
    }),
  );
  console.error(`[bench] restarting the bed's kube-apiserver with an audit log of ${OPERATOR_USER}`);
  execFileSync(
    'bash',
    [
      bedScript,
      'restart-apiserver',
      `--audit-policy-file=${policy}`,
      `--audit-log-path=${auditLog}`,
      '--audit-log-maxsize=0',
    ],
    { stdio: 'inherit' },
  );
  return auditLog;
}

/** The chart's ServiceAccount and cluster-wide RBAC, and a kubeconfig with nothing but its token. */
function ensureOperatorIdentity(): string {
  const file = join(benchDir, 'operator.kubeconfig');
  const ns = `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"${OPERATOR_NAMESPACE}"}}`;
  kubectl(['apply', '-f', '-'], ns);
  const rendered = execFileSync(
    'bash',
    [
      '-c',
      `eval "$(bash "$1" env)" && helm template ${RELEASE} "$2" --namespace ${OPERATOR_NAMESPACE}`,
      'bash',
      bedScript,
      join(repoRoot, 'charts/modelops'),
    ],
    { encoding: 'utf8' },
  );
  const kinds = new Set(['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']);
  const rbac = (loadAll(rendered) as { kind?: string }[]).filter((d) => d?.kind && kinds.has(d.kind));
  kubectl(['apply', '-n', OPERATOR_NAMESPACE, '-f', '-'], rbac.map((d) => dump(d)).join('---\n'));
  // A token minted for this bed's cluster (a bed brought down and up again has new signing keys) and not near expiry.
  const mintedAfter = Math.max(statSync(kubeconfigPath()).mtimeMs, Date.now() - 20 * 3600_000);
  if (existsSync(file) && statSync(file).mtimeMs > mintedAfter) return file;
  const token = kubectl(['create', 'token', SERVICE_ACCOUNT, '-n', OPERATOR_NAMESPACE, '--duration=24h']).trim();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath());
  const cluster = kubeConfig.getCurrentCluster()!;
  writeFileSync(
    file,
    dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'bed', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } }],
      users: [{ name: 'operator', user: { token } }],
      contexts: [{ name: 'operator', context: { cluster: 'bed', user: 'operator' } }],
      'current-context': 'operator',
    }),
  );
  return file;
}

// ---- the operator process ---------------------------------------------------------------------------

export interface ProcessFigures {
  rssMb: number;
  /** VmHWM: the most RSS the process has had. */
  peakRssMb: number;
  /** User + system CPU time so far. */
  cpuSeconds: number;
}

export interface OperatorProcess {
  child: ChildProcess;
  metricsPort: number;
  logFile: string;
  /** Resolves with the first log line `predicate` accepts; rejects if the process exits first. */
  logLine(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** When (performance.now) a log line with this message first arrived. */
  firstSeen(msg: string): number | undefined;
  metrics(): Promise<Metrics>;
  figures(): ProcessFigures;
  /** SIGTERM (graceful: the Lease is released); resolves with the exit code. */
  stop(): Promise<number | null>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const CLK_TCK = 100;

export function processFigures(pid: number): ProcessFigures {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  // utime and stime are fields 14 and 15; the command name (field 2) may contain spaces, so count after ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024, cpuSeconds: ticks / CLK_TCK };
}

/** What runs the operator (prepareBed builds it). */
let operatorCommand: string[] = [];

/** Starts the compiled operator (prepareBed builds it) and resolves once it logs that it started. */
export async function startOperator(
  operatorKubeconfig: string,
  opts: { args?: string[]; logLevel?: string; name: string },
): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const logFile = join(benchDir, `${opts.name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(
    'node',
    [
      ...operatorCommand,
      '--leader-elect',
      `--leader-election-namespace=${OPERATOR_NAMESPACE}`,
      `--metrics-port=${metricsPort}`,
      `--health-port=${healthPort}`,
      ...(opts.args ?? []),
    ],
    {
      cwd: dirname(operatorCommand.at(-1)!),
      env: { ...process.env, KUBECONFIG: operatorKubeconfig, POD_NAME: opts.name, LOG_LEVEL: opts.logLevel ?? 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const waiters: {
    predicate: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  const firstSeen = new Map<string, number>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    log.write(line + '\n');
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (!firstSeen.has(String(parsed.msg))) firstSeen.set(String(parsed.msg), performance.now());
    for (const w of waiters.filter((w) => w.predicate(parsed))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(parsed);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logLine = (predicate: (l: Record<string, unknown>) => boolean) =>
    Promise.race([
      new Promise<Record<string, unknown>>((resolve) => waiters.push({ predicate, resolve })),
      exited.then((code) => {
        throw new Error(`the operator exited (${code}); see ${logFile}`);
      }),
    ]);
  await logLine((l) => l.msg === 'modelops operator started');
  return {
    child,
    metricsPort,
    logFile,
    logLine,
    firstSeen: (msg) => firstSeen.get(msg),
    metrics: () => scrape(metricsPort),
    figures: () => processFigures(child.pid!),
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited.finally(() => log.end());
    },
  };
}

// ---- the operator's /metrics ----------------------------------------------------------------------

/** Series → value, e.g. `workqueue_depth{name="trainingjob"}` → 0. */
export type Metrics = Map<string, number>;

async function scrape(port: number): Promise<Metrics> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Metrics = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

const sumOf = (m: Metrics, prefix: string) =>
  [...m].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);

export const reconciles = (m: Metrics) => sumOf(m, 'controller_runtime_reconcile_total{');
const busy = (m: Metrics) => sumOf(m, 'workqueue_depth{') + sumOf(m, 'controller_runtime_active_workers{');
const leads = (m: Metrics) => sumOf(m, 'leader_election_master_status{') > 0;

/**
 * Waits until the operator leads, has done at least `minReconciles` reconciles, and has had an empty
 * queue, no reconcile in flight and no new reconcile for `quietMs`. Resolves with the moment (ms,
 * performance.now) of its last reconcile — when it went idle, not when the quiet period ended.
 */
export async function waitForIdle(
  op: OperatorProcess,
  opts: { quietMs: number; minReconciles?: number; timeoutMs?: number },
): Promise<number> {
  const deadline = performance.now() + (opts.timeoutMs ?? 20 * 60_000);
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const m = await op.metrics();
    const now = performance.now();
    const count = reconciles(m);
    if (count !== last || busy(m) > 0 || !leads(m)) {
      if (count !== last || busy(m) > 0) lastChange = now;
      last = count;
    } else if (count >= (opts.minReconciles ?? 0) && now - lastChange >= opts.quietMs) {
      return lastChange;
    }
    if (now > deadline) throw new Error(`the operator did not go idle (reconciles ${count}, busy ${busy(m)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * `--settle-s` (default 1200): how long a bench waits for the operator to go idle before it measures
 * anyway. An operator whose controllers poll (a ModelVersion waiting for its pods requeues itself) never
 * has a quiet queue; the figures then say it was not idle, and reconciles per minute show how busy it was.
 */
export const SETTLE_MS = Number(argValue('settle-s', '1200')) * 1000;

/** waitForIdle bounded by SETTLE_MS: the moment it went idle, or undefined if it did not. */
export async function settle(
  op: OperatorProcess,
  opts: { quietMs: number; minReconciles?: number },
): Promise<number | undefined> {
  try {
    return await waitForIdle(op, { ...opts, timeoutMs: SETTLE_MS });
  } catch (err) {
    console.error(`[bench] ${String(err)} within --settle-s=${SETTLE_MS / 1000}; measuring anyway`);
    return undefined;
  }
}

// ---- the kube-apiserver's audit log of the operator's requests --------------------------------------

export interface AuditEntry {
  verb: string;
  objectRef?: { resource?: string; subresource?: string; apiGroup?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
  /** When the stage logged (ResponseComplete: the answer was sent). */
  stageTimestamp: string;
}

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** A position in the audit log; `since(mark)` reads what was logged after it. */
export function auditMark(auditLog: string): number {
  return existsSync(auditLog) ? statSync(auditLog).size : 0;
}

export function auditSince(auditLog: string, mark: number): AuditEntry[] {
  const size = auditMark(auditLog);
  if (size <= mark) return [];
  const fd = openSync(auditLog, 'r');
  const buffer = Buffer.alloc(size - mark);
  readSync(fd, buffer, 0, buffer.length, mark);
  closeSync(fd);
  return buffer
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEntry);
}

const requestKind = (e: AuditEntry): string => {
  const r = e.objectRef;
  const code = e.responseStatus?.code ?? 0;
  return `${e.verb} ${r?.resource ?? '?'}${r?.subresource ? `/${r.subresource}` : ''}${code >= 300 ? ` → ${code}` : ''}`;
};

/** `verb resource[/subresource]` → count, writes first. */
export function countRequests(
  entries: AuditEntry[],
  filter: (e: AuditEntry) => boolean = () => true,
): Map<string, number> {
  return new Map(byKind(entries.filter(filter)).map(([kind, same]) => [kind, same.length]));
}

/**
 * The API server's own time per kind of write (received → answered; priority-and-fairness queueing included,
 * authentication and the network not): count and mean ms.
 */
export function serverTimes(entries: AuditEntry[]): Map<string, { count: number; meanMs: number }> {
  const serverMs = (e: AuditEntry) => Date.parse(e.stageTimestamp) - Date.parse(e.requestReceivedTimestamp);
  return new Map(
    byKind(entries.filter(isWrite)).map(([kind, same]) => [
      kind,
      { count: same.length, meanMs: same.reduce((sum, e) => sum + serverMs(e), 0) / same.length },
    ]),
  );
}

/** The entries grouped by their kind of request, the kinds in alphabetical order. */
function byKind(entries: AuditEntry[]): [string, AuditEntry[]][] {
  const kinds = new Map<string, AuditEntry[]>();
  for (const e of entries) {
    const kind = requestKind(e);
    const same = kinds.get(kind);
    if (same) same.push(e);
    else kinds.set(kind, [e]);
  }
  return [...kinds].sort(([a], [b]) => a.localeCompare(b));
}

export const isLeaseRequest = (e: AuditEntry) => e.objectRef?.resource === 'leases';
export const isWrite = (e: AuditEntry) => WRITE_VERBS.has(e.verb);

// ---- objects ----------------------------------------------------------------------------------------

/** Creates a namespace for one run and waits for its default ServiceAccount (pods need it). */
export async function createNamespace(client: RestClient, name: string): Promise<void> {
  await client.create(NAMESPACE, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const sa: ResourceRef = {
    group: '',
    version: 'v1',
    plural: 'serviceaccounts',
    kind: 'ServiceAccount',
    namespaced: true,
  };
  for (;;) {
    const list = await client.list(sa, { namespace: name });
    if (list.items.some((i) => i.metadata?.name === 'default')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Deletes a namespace and waits until it is gone (its objects garbage-collected). */
/** Deletes a namespace and waits until it is gone; after `timeoutMs` it says what is left and returns. */
/**
 * Deletes namespace `name` and waits up to `timeoutMs` for it to go. Past that, the finalizers still on its objects
 * of the `release` kinds (an operator too slow to remove them, or stopped) are dropped, so the namespace goes
 * before the next run and leaves it no work.
 */
export async function deleteNamespace(
  client: RestClient,
  name: string,
  timeoutMs = Infinity,
  release: ResourceRef[] = [],
): Promise<void> {
  await client.delete(NAMESPACE, { name }).catch(() => undefined);
  for (const deadline = performance.now() + timeoutMs; ;) {
    if (performance.now() > deadline) {
      console.error(`[bench] namespace ${name} still Terminating after ${timeoutMs / 1000} s; dropping finalizers`);
      for (const ref of release) await dropFinalizers(client, ref, name);
      return;
    }
    try {
      await client.get(NAMESPACE, { name });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function dropFinalizers(client: RestClient, ref: ResourceRef, namespace: string): Promise<void> {
  const held = (await client.list(ref, { namespace })).items.filter((o) => o.metadata?.finalizers?.length);
  const release = (obj: KubernetesObject) =>
    client.patch(ref, { namespace, name: obj.metadata!.name! }, { metadata: { finalizers: null } });
  for (let i = 0; i < held.length; i += 16) await Promise.allSettled(held.slice(i, i + 16).map(release));
  console.error(`[bench] dropped the finalizers of ${held.length} ${ref.plural}`);
}

/** Creates `objects` with `concurrency` requests in flight; `onStart(i)` runs just before each create is sent. */
export async function createAll(
  client: RestClient,
  objects: { ref: ResourceRef; obj: KubernetesObject }[],
  concurrency: number,
  onStart: (i: number) => void = () => {},
  onDone: (i: number) => void = () => {},
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const i = next++;
      const { ref, obj } = objects[i]!;
      onStart(i);
      try {
        await client.create(ref, obj);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      onDone(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

// ---- figures ---------------------------------------------------------------------------------------

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Busy share of the machine's CPUs between two readings of /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = cpu[3]! + cpu[4]!;
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export const busyShare = (a: { busy: number; total: number }, b: { busy: number; total: number }) =>
  (b.busy - a.busy) / Math.max(1, b.total - a.total);

/** A Markdown table, so a run's output pastes into the README as it is. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(cells[0]!), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join(
    '\n',
  );
}

export function argValue(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}
