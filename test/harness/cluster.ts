// Helpers for integration tests on the real test bed: a client, per-test namespaces, kubectl,
// and waits built on watches (no polling sleeps).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { KubeConfig, KubernetesObjectApi, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { bedScript } from './paths.js';

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  if (!process.env.KUBECONFIG)
    throw new Error('KUBECONFIG is not set: run the integration tests through jest (global setup starts the bed)');
  kc.loadFromFile(process.env.KUBECONFIG);
  return kc;
}

export function objectApi(kc = kubeConfig()): KubernetesObjectApi {
  return KubernetesObjectApi.makeApiClient(kc);
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The test bed's own kubectl (the machine's may be older than the server). Never throws. */
export function kubectl(args: string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'bash',
      [bedScript, 'kubectl', ...args],
      { encoding: 'utf8', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** A fresh namespace for one test file, deleted (without waiting) after it. */
export function useNamespace(prefix: string): { readonly name: string } {
  const ns = { name: `${prefix}-${randomBytes(3).toString('hex')}` };
  beforeAll(async () => {
    await objectApi().create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns.name, labels: { 'modelops.dev/test': prefix } },
    });
    // Pods are refused until the ServiceAccount controller has made the namespace's default account.
    await waitFor<KubernetesObject>(
      `/api/v1/namespaces/${ns.name}/serviceaccounts`,
      (sa) => sa.metadata?.name === 'default',
      `default ServiceAccount in ${ns.name}`,
    );
  });
  afterAll(async () => {
    await objectApi()
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name } })
      .catch(() => undefined);
  });
  return ns;
}

export interface WaitOptions {
  /** Give up after this long; the error shows the last state seen. */
  timeoutMs?: number;
  /** Label selector, field selector passed to the list/watch. */
  labelSelector?: string;
  fieldSelector?: string;
}

/**
 * Resolves with the first object on `listPath` (e.g. /api/v1/namespaces/x/pods) for which
 * `predicate` holds, looking at the current list first and then at watch events. Rejects on timeout.
 */
export async function waitFor<T extends object = KubernetesObject>(
  listPath: string,
  predicate: (obj: T) => boolean,
  what: string,
  options: WaitOptions = {},
): Promise<T> {
  let lastSeen: T | undefined;
  let found: T | undefined;
  const check = (obj: T) => {
    lastSeen = obj;
    if (predicate(obj)) found = obj;
    return found !== undefined;
  };
  await observe<T>(listPath, options, {
    snapshot: (items) => items.some(check),
    event: (phase, obj) => phase !== 'DELETED' && check(obj),
    describeTimeout: (ms) =>
      `timed out after ${ms} ms waiting for ${what}; last seen: ${JSON.stringify((lastSeen as { status?: unknown } | undefined)?.status ?? lastSeen ?? null)}`,
  });
  return found!;
}

/** Resolves once no object on `listPath` matches the selectors (e.g. after garbage collection). */
export async function waitForGone(listPath: string, what: string, options: WaitOptions = {}): Promise<void> {
  let present = new Set<string>();
  await observe<KubernetesObject>(listPath, options, {
    snapshot: (items) => {
      present = new Set(items.map((i) => i.metadata!.uid!));
      return present.size === 0;
    },
    event: (phase, obj) => {
      if (phase === 'DELETED') present.delete(obj.metadata!.uid!);
      else present.add(obj.metadata!.uid!);
      return present.size === 0;
    },
    describeTimeout: (ms) => `timed out after ${ms} ms waiting for ${what} to be gone; ${present.size} left`,
  });
}

interface Observer<T> {
  /** The current list; return true when done. */
  snapshot(items: T[]): boolean;
  /** One watch event (not bookmarks); return true when done. */
  event(phase: string, obj: T): boolean;
  describeTimeout(timeoutMs: number): string;
}

/**
 * List, then watch from the list's resourceVersion, until the observer is done or the time is up.
 * A watch that breaks (a kube-apiserver restart in another test, say) is resumed from a fresh list.
 */
function observe<T>(listPath: string, options: WaitOptions, observer: Observer<T>): Promise<void> {
  const kc = kubeConfig();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const query = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  return new Promise<void>((resolve, reject) => {
    let controller: AbortController | undefined;
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      controller?.abort();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(observer.describeTimeout(timeoutMs))), timeoutMs);
    const retry = () => {
      if (!settled) setTimeout(round, 200);
    };
    const round = async () => {
      let list: { items: T[]; metadata: { resourceVersion: string } };
      try {
        list = await getJson(kc, listPath, query);
      } catch {
        return retry();
      }
      if (settled) return;
      if (observer.snapshot(list.items)) return finish();
      new Watch(kc)
        .watch(
          listPath,
          { ...query, resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true },
          (phase, obj: T) => {
            if (phase === 'BOOKMARK' || phase === 'ERROR') return;
            if (observer.event(phase, obj)) finish();
          },
          () => retry(),
        )
        .then(
          (c) => {
            controller = c;
            if (settled) c.abort();
          },
          () => retry(),
        );
    };
    void round();
  });
}

/** GET a path on the API server as JSON (for lists and subresources the typed clients don't cover). */
export async function getJson<T>(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | undefined> = {},
): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return new Promise<T>((resolve, reject) => {
    https
      .get(url, options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(body) as T)
            : reject(new Error(`GET ${path}: ${res.statusCode} ${body}`)),
        );
      })
      .on('error', reject);
  });
}

/**
 * Restarts the kube-apiserver process of the bed, with `extraFlags` for this start only (a later call
 * without them restores the flags the bed was created with); resolves when it serves again.
 */
export function restartApiServer(...extraFlags: string[]): Promise<void> {
  return bedCommand('restart-apiserver', extraFlags);
}

/**
 * Restarts the bed's kube-controller-manager, kube-scheduler and (with the data plane) kube-proxy afresh, as
 * after a control-plane upgrade (after a kube-apiserver restart their watches back off and may lag behind it
 * for a minute, longer than a later test waits); resolves when all are healthy. `scheduler: false` leaves
 * the scheduler alone: a 1.36 scheduler started without resource.k8s.io/v1 never schedules.
 */
export async function restartControllers(opts: { scheduler?: boolean } = {}): Promise<void> {
  await bedCommand('restart-controller-manager', []);
  if (opts.scheduler ?? true) await bedCommand('restart-scheduler', []);
  await bedCommand('restart-kube-proxy', []);
}

async function bedCommand(command: string, args: string[]): Promise<void> {
  const result = await new Promise<KubectlResult>((resolve) => {
    execFile('bash', [bedScript, command, ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
  });
  if (result.code !== 0) throw new Error(`${command} failed: ${result.stderr}`);
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export function condition(
  obj: { status?: { conditions?: Condition[] } } | undefined,
  type: string,
): Condition | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type);
}
