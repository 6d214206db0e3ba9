// The load driver: Open Inference Protocol requests for one model, as its clients would send them, either
// - to a Service's ClusterIP, through kube-proxy (the replica-ratio canary: the split follows the pods), or
// - by an HTTPRoute, IMITATING the gateway (see gateway.ts): the route is watched and every request is
//   routed by its rules and weights as they are at that moment, then sent to the chosen Service's ClusterIP.
// Each request opens its own connection: kube-proxy balances connections, so a keep-alive client would stick
// to one pod. The report says what each version answered (the response's model_version), per backend and per
// route generation in route mode, so a test can compare the split users got with the one the status claims.
import http from 'node:http';
import {
  CustomObjectsApi,
  CoreV1Api,
  makeInformer,
  type Informer,
  type KubernetesListObject,
  type ObjectCache,
  type V1Service,
} from '@kubernetes/client-node';
import { kubeConfig } from './cluster.js';
import { routeRequest, type HttpRoute } from './gateway.js';
import { mulberry32, type RowSource } from './inputs.js';

export type LoadTarget =
  { service: string; namespace: string; port?: number } | { httpRoute: string; namespace: string };

export interface LoadOptions {
  target: LoadTarget;
  /** The model's name in /v2/models/{model}/infer. */
  model: string;
  /** Where the rows come from (see inputs.ts: referenceRows). */
  rows: RowSource;
  /** The input tensor's name (the reference's input.name). */
  inputName: string;
  /** Stop after this many requests (default: when stopped). */
  requests?: number;
  /** Requests started per second (default: as fast as `concurrency` allows). */
  ratePerSecond?: number;
  /** Most requests in flight at once (default 16). */
  concurrency?: number;
  /** Headers of every request (an HTTPRoute may match on them). */
  headers?: Record<string, string>;
  rowsPerRequest?: number;
  /** Seed of the gateway imitation's weighted choice. */
  seed?: number;
}

/** Counts of one slice of the traffic. */
export interface Tally {
  requests: number;
  /** HTTP status, or the transport error's code (ECONNREFUSED, ...) for requests that got no response. */
  byCode: Record<string, number>;
  /** The model_version of the responses that carried one (successful inferences). */
  byVersion: Record<string, number>;
  /** Predicted positive-class probability: sum and count, for a mean. */
  scoreSum: number;
  latencyMs: number[];
}

export interface LoadReport extends Tally {
  /** Route mode: per Service the gateway imitation chose. */
  byBackend: Record<string, Tally>;
  /** Route mode: per metadata.generation of the HTTPRoute that routed the request. */
  byRouteGeneration: Record<string, Tally>;
}

export interface LoadRun {
  /** Resolves when `requests` have completed, or after stop(). */
  done: Promise<LoadReport>;
  report(): LoadReport;
  /** Resolves once requests are routed by this generation of the HTTPRoute (or a later one). */
  routeGeneration(generation: number): Promise<void>;
  /** Resolves once `count` requests have completed in all. */
  completed(count: number): Promise<void>;
  stop(): Promise<LoadReport>;
}

export function startLoad(options: LoadOptions): LoadRun {
  const router = 'httpRoute' in options.target ? new RouteWatch(options.target) : undefined;
  const services = new ServiceAddresses(options.target.namespace);
  const report = emptyReport();
  const random = mulberry32(options.seed ?? 7);
  const concurrency = options.concurrency ?? 16;
  const started = performance.now();
  let stopped = false;
  let issued = 0;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const progress: { count: number; resolve: () => void }[] = [];
  const settled = () => {
    wake?.();
    for (const waiter of progress.filter((w) => report.requests >= w.count)) {
      progress.splice(progress.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  const one = async () => {
    const path = `/v2/models/${options.model}/infer`;
    let service = 'service' in options.target ? options.target.service : '';
    let port = 'service' in options.target ? options.target.port : undefined;
    const tallies: Tally[] = [report];
    if (router) {
      const route = router.current();
      const decision = routeRequest(route, { method: 'POST', path, headers: options.headers ?? {} }, random);
      tallies.push(slice(report.byRouteGeneration, String(route.metadata?.generation ?? 0)));
      if ('status' in decision) return record(tallies, decision.status, undefined, 0);
      service = decision.backend.name;
      port = decision.backend.port;
      tallies.push(slice(report.byBackend, service));
    }
    const address = await services.address(service, port);
    const body = inferBody(options, options.rowsPerRequest ?? 1);
    const t0 = performance.now();
    const result = await post(address.host, address.port, path, body, options.headers ?? {});
    record(tallies, result.code, result.body, performance.now() - t0);
  };

  const loop = async () => {
    await Promise.all([router?.ready(), services.ready()]);
    while (!stopped && (options.requests === undefined || issued < options.requests)) {
      if (options.ratePerSecond) {
        const due = started + (issued / options.ratePerSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      while (inFlight >= concurrency) await new Promise<void>((r) => (wake = r));
      if (stopped) break;
      issued++;
      inFlight++;
      void one()
        .catch((err: unknown) => record([report], `driver error: ${String(err)}`, undefined, 0))
        .finally(() => {
          inFlight--;
          settled();
        });
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
    router?.stop();
    services.stop();
    return report;
  };

  const done = loop();
  return {
    done,
    report: () => structuredClone(report),
    routeGeneration: (generation) => router?.waitForGeneration(generation) ?? Promise.resolve(),
    completed: (count) =>
      report.requests >= count ? Promise.resolve() : new Promise((resolve) => progress.push({ count, resolve })),
    stop: async () => {
      stopped = true;
      settled();
      return done;
    },
  };
}

/** Sends `options.requests` requests and resolves with the report. */
export function runLoad(options: LoadOptions & { requests: number }): Promise<LoadReport> {
  return startLoad(options).done;
}

/** Shares of `counts` in percent, e.g. { v1: 80.1, v2: 19.9 }. */
export function percentages(counts: Record<string, number>): Record<string, number> {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, total ? (100 * v) / total : 0]));
}

function inferBody(options: LoadOptions, rows: number): string {
  const data: number[] = [];
  let width = 0;
  for (let i = 0; i < rows; i++) {
    const row = options.rows();
    width = row.length;
    data.push(...row);
  }
  return JSON.stringify({ inputs: [{ name: options.inputName, shape: [rows, width], datatype: 'FP32', data }] });
}

function emptyTally(): Tally {
  return { requests: 0, byCode: {}, byVersion: {}, scoreSum: 0, latencyMs: [] };
}

function emptyReport(): LoadReport {
  return { ...emptyTally(), byBackend: {}, byRouteGeneration: {} };
}

function slice(map: Record<string, Tally>, key: string): Tally {
  return (map[key] ??= emptyTally());
}

interface InferResponse {
  model_version?: string;
  outputs?: { data?: number[]; shape?: number[] }[];
}

function record(tallies: Tally[], code: number | string, body: string | undefined, ms: number): void {
  let response: InferResponse | undefined;
  try {
    response = body ? (JSON.parse(body) as InferResponse) : undefined;
  } catch {
    response = undefined;
  }
  const version = code === 200 ? response?.model_version : undefined;
  // The positive class's probability: the last column of the first output.
  const output = response?.outputs?.[0];
  const width = output?.shape?.[1] ?? 0;
  const score = version !== undefined && width > 0 ? output?.data?.[width - 1] : undefined;
  for (const tally of tallies) {
    tally.requests++;
    tally.byCode[code] = (tally.byCode[code] ?? 0) + 1;
    if (version !== undefined) tally.byVersion[version] = (tally.byVersion[version] ?? 0) + 1;
    if (score !== undefined) tally.scoreSum += score;
    if (ms > 0) tally.latencyMs.push(ms);
  }
}

function post(
  host: string,
  port: number,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ code: number | string; body?: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host,
        port,
        path,
        method: 'POST',
        agent: false, // a connection per request: kube-proxy balances connections
        timeout: 30_000,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: text }));
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? 'error' }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? 'error' }));
    req.end(body);
  });
}

/** ClusterIP and port of the namespace's Services, kept current by an informer. */
class ServiceAddresses {
  private readonly informer: Informer<V1Service> & ObjectCache<V1Service>;
  private readonly started: Promise<void>;

  constructor(private readonly namespace: string) {
    const kc = kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    this.informer = makeInformer(kc, `/api/v1/namespaces/${namespace}/services`, () =>
      core.listNamespacedService({ namespace }),
    );
    this.started = this.informer.start();
  }

  ready(): Promise<void> {
    return this.started;
  }

  async address(name: string, port: number | undefined): Promise<{ host: string; port: number }> {
    const service = this.informer.get(name, this.namespace);
    const ip = service?.spec?.clusterIP;
    if (!ip || ip === 'None') throw new Error(`Service ${this.namespace}/${name} has no ClusterIP`);
    const ports = service.spec?.ports ?? [];
    const chosen = port === undefined ? ports[0] : ports.find((p) => p.port === port);
    if (!chosen) throw new Error(`Service ${this.namespace}/${name} has no port ${port ?? ''}`);
    return { host: ip, port: chosen.port };
  }

  stop(): void {
    void this.informer.stop();
  }
}

type RouteObject = HttpRoute & { metadata: { name?: string; namespace?: string } };

/** The HTTPRoute as it is now, from a watch. */
class RouteWatch {
  private route: HttpRoute = {};
  private readonly informer: Informer<RouteObject>;
  private readonly started: Promise<void>;
  private readonly waiters: { generation: number; resolve: () => void }[] = [];

  constructor(private readonly target: { httpRoute: string; namespace: string }) {
    const kc = kubeConfig();
    const custom = kc.makeApiClient(CustomObjectsApi);
    const { namespace, httpRoute } = target;
    this.informer = makeInformer(
      kc,
      `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes`,
      () =>
        custom.listNamespacedCustomObject({
          group: 'gateway.networking.k8s.io',
          version: 'v1',
          namespace,
          plural: 'httproutes',
          fieldSelector: `metadata.name=${httpRoute}`,
        }) as Promise<KubernetesListObject<RouteObject>>,
    );
    const update = (route: HttpRoute) => {
      if (route.metadata?.name !== httpRoute) return;
      this.route = route;
      const generation = route.metadata?.generation ?? 0;
      for (const waiter of this.waiters.filter((w) => generation >= w.generation)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    };
    this.informer.on('add', update);
    this.informer.on('update', update);
    this.informer.on('delete', (route) => route.metadata?.name === httpRoute && (this.route = {}));
    this.started = this.informer.start();
  }

  ready(): Promise<void> {
    return this.started;
  }

  current(): HttpRoute {
    return this.route;
  }

  waitForGeneration(generation: number): Promise<void> {
    if ((this.route.metadata?.generation ?? 0) >= generation) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ generation, resolve }));
  }

  stop(): void {
    void this.informer.stop();
  }
}
