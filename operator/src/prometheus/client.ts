// A Prometheus HTTP API client (instant and range queries) with a timeout per request, the caller's
// AbortSignal, and errors that say what failed: which server, which query, and why.
// https://prometheus.io/docs/prometheus/latest/querying/api/

/** One element of an instant vector (or a scalar, with no labels). */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** One series of a range query. */
export interface Series {
  labels: Record<string, string>;
  points: { time: Date; value: number }[];
}

export interface QueryOptions {
  /** Evaluation time; the server's now by default. */
  time?: Date;
  signal?: AbortSignal;
}

export interface RangeOptions {
  start: Date;
  end: Date;
  stepSeconds: number;
  signal?: AbortSignal;
}

/** What the operator needs from Prometheus; `HttpPrometheusClient` is the real one. */
export interface PrometheusClient {
  readonly url: string;
  query(expr: string, options?: QueryOptions): Promise<Sample[]>;
  queryRange(expr: string, options: RangeOptions): Promise<Series[]>;
}

export type PrometheusErrorKind = 'unreachable' | 'timeout' | 'aborted' | 'http' | 'query' | 'response';

export class PrometheusError extends Error {
  constructor(
    readonly kind: PrometheusErrorKind,
    readonly url: string,
    readonly expr: string,
    detail: string,
  ) {
    super(`Prometheus ${url}: ${describe(kind)} for query ${truncate(expr)}: ${detail}`);
    this.name = 'PrometheusError';
  }
}

const describe = (kind: PrometheusErrorKind) =>
  ({
    unreachable: 'unreachable',
    timeout: 'no answer in time',
    aborted: 'request cancelled',
    http: 'HTTP error',
    query: 'query failed',
    response: 'unreadable response',
  })[kind];

const truncate = (expr: string) => (expr.length > 200 ? `\`${expr.slice(0, 200)}…\`` : `\`${expr}\``);

export interface HttpPrometheusClientOptions {
  /** Base URL, e.g. http://prometheus.monitoring:9090 (a path prefix is kept). */
  url: string;
  /** Per request; the default suits analyses that run every few seconds. */
  timeoutMs?: number;
}

interface ApiResponse {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
}

export class HttpPrometheusClient implements PrometheusClient {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: HttpPrometheusClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  async query(expr: string, options: QueryOptions = {}): Promise<Sample[]> {
    const params = new URLSearchParams({ query: expr });
    if (options.time) params.set('time', String(options.time.getTime() / 1000));
    const data = await this.post('/api/v1/query', expr, params, options.signal);
    switch (data.resultType) {
      case 'vector':
        return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
          labels: r.metric,
          value: parseValue(r.value[1]),
        }));
      case 'scalar':
        return [{ labels: {}, value: parseValue((data.result as [number, string])[1]) }];
      default:
        throw new PrometheusError('response', this.url, expr, `expected a vector or scalar, got ${data.resultType}`);
    }
  }

  async queryRange(expr: string, options: RangeOptions): Promise<Series[]> {
    const params = new URLSearchParams({
      query: expr,
      start: String(options.start.getTime() / 1000),
      end: String(options.end.getTime() / 1000),
      step: String(options.stepSeconds),
    });
    const data = await this.post('/api/v1/query_range', expr, params, options.signal);
    if (data.resultType !== 'matrix')
      throw new PrometheusError('response', this.url, expr, `expected a matrix, got ${data.resultType}`);
    return (data.result as { metric: Record<string, string>; values: [number, string][] }[]).map((r) => ({
      labels: r.metric,
      points: r.values.map(([t, v]) => ({ time: new Date(t * 1000), value: parseValue(v) })),
    }));
  }

  private async post(
    path: string,
    expr: string,
    params: URLSearchParams,
    signal: AbortSignal | undefined,
  ): Promise<{ resultType: string; result: unknown }> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: params,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      if (signal?.aborted) throw new PrometheusError('aborted', this.url, expr, String(signal.reason ?? 'aborted'));
      if (timeout.aborted)
        throw new PrometheusError('timeout', this.url, expr, `no response within ${this.timeoutMs} ms`);
      throw new PrometheusError('unreachable', this.url, expr, networkCause(err));
    }
    let body: ApiResponse;
    const text = await readText(response, this.url, expr, signal, timeout, this.timeoutMs);
    try {
      body = JSON.parse(text) as ApiResponse;
    } catch {
      throw new PrometheusError(
        response.ok ? 'response' : 'http',
        this.url,
        expr,
        `HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`,
      );
    }
    if (body.status !== 'success' || !body.data) {
      // Prometheus answers bad queries with 400/422 and {"errorType": "bad_data", "error": "..."}.
      const kind = body.errorType ? 'query' : 'http';
      throw new PrometheusError(
        kind,
        this.url,
        expr,
        `HTTP ${response.status}${body.errorType ? ` ${body.errorType}` : ''}: ${body.error ?? text.slice(0, 200)}`,
      );
    }
    return body.data;
  }
}

async function readText(
  response: Response,
  url: string,
  expr: string,
  signal: AbortSignal | undefined,
  timeout: AbortSignal,
  timeoutMs: number,
): Promise<string> {
  try {
    return await response.text();
  } catch (err) {
    if (signal?.aborted) throw new PrometheusError('aborted', url, expr, String(signal.reason ?? 'aborted'));
    if (timeout.aborted)
      throw new PrometheusError('timeout', url, expr, `response not complete within ${timeoutMs} ms`);
    throw new PrometheusError('unreachable', url, expr, networkCause(err));
  }
}

/** fetch says "fetch failed"; the useful part (ECONNREFUSED 127.0.0.1:9090) is in its cause. */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code || cause?.message) return [cause.code, cause.message].filter(Boolean).join(' ');
  return err instanceof Error ? err.message : String(err);
}

/** Prometheus writes sample values as strings, with NaN, +Inf and -Inf spelled out. */
export function parseValue(value: string): number {
  if (value === '+Inf') return Infinity;
  if (value === '-Inf') return -Infinity;
  return Number(value);
}

/** A label matcher list `{a="x",b="y"}`, values escaped as PromQL strings. */
export function matchers(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return `{${parts.join(',')}}`;
}
