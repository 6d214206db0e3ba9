// What an integration test reads of the bed's data plane: the serving processes the bed runs for pods, the
// directories standing in for PVCs, and the bed's Prometheus (HTTP API). See README.md.
import { execFile } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { PodProcessState } from '../bed/dataplane/pod-process.js';
import { kubectl } from './cluster.js';

/** The bed's GatewayClass and Gateway (test/bed/gateway.yaml) an HTTPRoute's parentRefs name. */
export const TESTBED_GATEWAY = { className: 'testbed', namespace: 'gateway', name: 'testbed' } as const;

function bedEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: the test bed is up without its data plane (MODELOPS_TESTBED_DATAPLANE=off, or another ` +
        'bed on this machine holds it); run the integration tests through jest so global setup exports it',
    );
  return value;
}

/** The bed's Prometheus, e.g. http://127.0.0.1:9090 — what the operator gets as --prometheus-url. */
export function prometheusUrl(): string {
  return bedEnv('MODELOPS_PROMETHEUS_URL');
}

/** The local directory standing in for PVC `claim` in `namespace` (contract C1); created if missing. */
export async function claimDirectory(namespace: string, claim: string): Promise<string> {
  const dir = `${bedEnv('MODELOPS_TESTBED_VOLUMES')}/${namespace}/${claim}`;
  await mkdir(dir, { recursive: true });
  return dir;
}

/** One serving process the bed runs for a pod, as its runner records it in pods.json. */
export type ServingProcess = PodProcessState;

export async function servingProcesses(): Promise<ServingProcess[]> {
  const text = await readFile(`${bedEnv('MODELOPS_TESTBED_SERVING')}/pods.json`, 'utf8');
  return (JSON.parse(text) as { pods: ServingProcess[] }).pods;
}

/**
 * Resolves with the serving processes once `predicate` holds for them (the runner rewrites its state file on
 * every change; this watches the file). Rejects after `timeoutMs` with the last state seen.
 */
export function waitForServing(
  predicate: (processes: ServingProcess[]) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<ServingProcess[]> {
  const dir = bedEnv('MODELOPS_TESTBED_SERVING');
  return new Promise((resolve, reject) => {
    let last: ServingProcess[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      watcher.close();
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(last);
    };
    const check = () =>
      servingProcesses().then(
        (processes) => {
          last = processes;
          if (predicate(processes)) finish();
        },
        () => undefined, // between the runner's write and rename
      );
    const watcher = watch(dir, (_event, file) => file === 'pods.json' && void check());
    const timer = setTimeout(
      () =>
        finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(last)}`)),
      timeoutMs,
    );
    void check();
  });
}

/**
 * The endpoints kube-proxy has programmed for a Service (the addresses in its nftables service chains, all
 * ports together), e.g. ['10.0.0.3:8080', ...]. Empty when it has none (yet).
 */
export async function kubeProxyEndpoints(namespace: string, service: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('nft', ['list', 'table', 'ip', 'kube-proxy']);
  const endpoints = new Set<string>();
  // chain service-GL6KA5BZ-ns/name/tcp/http {
  //   ... dnat ip to numgen random mod 2 map { 0 : 10.0.0.1 . 8080, 1 : 10.0.0.2 . 8080 }
  // }
  const chain = new RegExp(`chain service-\\w+-${namespace}/${service}/\\w+/[^ ]* \\{([^}]*\\{[^}]*\\})?[^}]*\\}`, 'g');
  for (const [block] of stdout.matchAll(chain))
    for (const [, ip, port] of block.matchAll(/(\d+\.\d+\.\d+\.\d+) \. (\d+)/g)) endpoints.add(`${ip}:${port}`);
  return [...endpoints].sort();
}

/**
 * Resolves once kube-proxy routes the Service to exactly `count` endpoints (after a scale, say). On a timeout
 * the error also says what the EndpointSlices hold, so a lagging endpoint-slice controller and a lagging
 * kube-proxy tell apart.
 */
export async function waitForKubeProxyEndpoints(namespace: string, service: string, count: number): Promise<string[]> {
  try {
    return await waitUntil(
      () => kubeProxyEndpoints(namespace, service),
      (endpoints) => endpoints.length === count,
      `kube-proxy routing ${namespace}/${service} to ${count} endpoints`,
    );
  } catch (error) {
    const slices = await kubectl([
      'get',
      'endpointslices',
      '-n',
      namespace,
      '-l',
      `kubernetes.io/service-name=${service}`,
      '-o',
      'jsonpath={range .items[*].endpoints[*]}{.addresses[0]} ready={.conditions.ready}{"\\n"}{end}',
    ]);
    throw new Error(`${(error as Error).message}; its EndpointSlices hold: ${slices.stdout.trim() || slices.stderr}`, {
      cause: error,
    });
  }
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** An instant PromQL query; a vector result as samples. */
export async function promQuery(expr: string): Promise<Sample[]> {
  const data = await promGet<{
    resultType: string;
    result: { metric: Record<string, string>; value: [number, string] }[];
  }>('/api/v1/query', { query: expr });
  if (data.resultType !== 'vector') throw new Error(`${expr}: expected a vector, got ${data.resultType}`);
  return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

export interface Target {
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  scrapeUrl: string;
  lastError: string;
}

export async function promTargets(): Promise<Target[]> {
  return (await promGet<{ activeTargets: Target[] }>('/api/v1/targets', { state: 'active' })).activeTargets;
}

/**
 * Asks again every half second until `predicate` holds; resolves with the last answer. For what offers no
 * watch: Prometheus (which scrapes once a second on the bed) and kube-proxy's rules.
 */
export async function waitUntil<T>(
  ask: () => Promise<T>,
  predicate: (answer: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await ask();
    if (predicate(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last answer: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function promGet<T>(path: string, query: Record<string, string>): Promise<T> {
  const url = new URL(path, prometheusUrl());
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}
