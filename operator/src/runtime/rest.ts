// A small JSON-over-HTTPS transport for the API server. client-node 1.4 builds a fresh https.Agent
// (so a fresh TCP+TLS connection) for every call — ~10 ms per sequential GET on the test bed — so
// this keeps one keep-alive Agent and asks the KubeConfig (KubeConfig.applyToHTTPSOptions) for credentials once a
// minute: it refreshes rotated ServiceAccount and exec tokens, and reads CA and client certificate files again.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { realClock, sleep, type Clock } from './clock.js';
import { apiErrorFrom, type ApiError, type StatusBody } from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  /** Aborts the request (a reconcile's deadline or shutdown); it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Called once per finished request with its duration (a watch's: until its response began); the Manager counts
 * them (rest_client_requests_total) and times them (rest_client_request_duration_seconds).
 */
export type ResponseObserver = (method: HttpMethod, statusCode: number | 'error', seconds: number) => void;

/** A request with no answer for this long fails (the API server's own limit for a non-watch request is 60 s). */
const REQUEST_TIMEOUT_MS = 60_000;
/**
 * Idle keep-alive connections kept for the next burst. Fewer than the requests a burst has in flight (its
 * workers, Events) and every burst closes the rest and opens them again — a TLS handshake each: at 64 in
 * flight, 16 kept turned 1320 GETs into 960 new connections on the bed. The API server closes idle ones.
 */
const MAX_IDLE_CONNECTIONS = 256;
/** A request the API server throttles is sent at most this often in all (client-go: 10 retries). */
const MAX_ATTEMPTS_WHEN_THROTTLED = 10;
const MAX_RETRY_AFTER_SECONDS = 10;
/**
 * How long credentials read from the kubeconfig are used. client-node reads its files (CA, client certificate and
 * key; a ServiceAccount's CA) synchronously on every call, and builds an Agent it discards (13–21 µs a request on
 * the event loop). client-go reads a token file again every minute; so does this, and at once after a 401.
 */
const CREDENTIALS_TTL_MS = 60_000;

export interface TransportOptions {
  /** Called once per finished request (the Manager counts them). */
  observe?: ResponseObserver;
  requestTimeoutMs?: number;
  /** Times the credentials' age and the waits a Retry-After asks for. */
  clock?: Clock;
}

export class RestTransport {
  private readonly base: URL;
  private readonly lib: typeof http | typeof https;
  private keepAliveAgent: http.Agent | undefined;
  private readonly observe: ResponseObserver;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  /** The kubeconfig's credentials as last read (a read in progress is shared), and when. */
  private credentials: { read: Promise<https.RequestOptions>; atMs: number } | undefined;

  constructor(
    private readonly kubeConfig: KubeConfig,
    opts: TransportOptions = {},
  ) {
    this.observe = opts.observe ?? (() => {});
    this.requestTimeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.clock = opts.clock ?? realClock;
    const server = kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new Error('kubeconfig has no current cluster');
    this.base = new URL(server);
    this.lib = this.base.protocol === 'http:' ? http : https;
  }

  /** One request; resolves with the parsed JSON body, rejects with a typed ApiError on status >= 400. */
  async request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    opts.signal?.throwIfAborted();
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    let reqOpts = await this.requestOptions(method, path, { ...opts, payload });
    let credentialsRenewed = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send<T>(reqOpts, payload, opts.signal);
      } catch (err) {
        // A keep-alive socket the server closed while idle fails on reuse; a POST might have been
        // applied, everything else is safe to send once more on a fresh socket.
        if (method !== 'POST' && (err as RetryableError).staleSocket && attempt === 1) continue;
        // Refused as unauthenticated (an expired token, a renewed certificate): nothing was done, so it is sent
        // once more with the credentials read again.
        if ((err as ApiError).status === 401 && !credentialsRenewed) {
          credentialsRenewed = true;
          reqOpts = await this.requestOptions(method, path, { ...opts, payload });
          continue;
        }
        // Priority and fairness (429) or an overloaded server that says when to come back: the request
        // was not served, so it is sent again after the delay asked for — client-go's way, and the only
        // rate limit the client applies: the API server's own share for this client decides.
        const retryAfterMs = (err as RetryableError).retryAfterMs;
        if (retryAfterMs === undefined || attempt >= MAX_ATTEMPTS_WHEN_THROTTLED) throw err;
        await sleep(this.clock, retryAfterMs, opts.signal);
        opts.signal?.throwIfAborted();
      }
    }
  }

  /**
   * A streaming GET (watch): calls `onLine` for every newline-terminated line. Resolves when the
   * server ends the response, rejects on a transport error, on `signal`, or when no byte arrives
   * for `idleTimeoutMs` — the watchdog for a connection that died without a FIN.
   */
  async stream(
    path: string,
    query: Query,
    onLine: (line: string) => void,
    opts: { idleTimeoutMs: number; signal?: AbortSignal },
  ): Promise<void> {
    const reqOpts = await this.requestOptions('GET', path, { query });
    return new Promise<void>((resolve, reject) => {
      const sentAt = performance.now();
      const req = this.lib.request({ ...reqOpts, signal: opts.signal }, (res) => {
        const status = res.statusCode ?? 0;
        this.observe('GET', status, secondsSince(sentAt));
        this.forgetCredentialsIfRefused(status);
        if (status >= 400)
          return void collect(res).then((text) => reject(apiErrorFrom(status, parseStatus(text), text)), reject);
        let partial = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          partial += chunk;
          let newline: number;
          while ((newline = partial.indexOf('\n')) >= 0) {
            const line = partial.slice(0, newline);
            partial = partial.slice(newline + 1);
            if (!line.trim()) continue;
            try {
              onLine(line);
            } catch (err) {
              // A bad line (or a consumer bug) ends this watch through the normal failure path
              // instead of escaping as an uncaught exception from a socket callback.
              return void req.destroy(err as Error);
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('watch response aborted')));
      });
      req.setTimeout(opts.idleTimeoutMs, () =>
        req.destroy(new Error(`watch stalled: no data for ${opts.idleTimeoutMs} ms`)),
      );
      req.on('error', (err) => {
        this.observe('GET', 'error', secondsSince(sentAt));
        reject(err);
      });
      req.end();
    });
  }

  close(): void {
    this.keepAliveAgent?.destroy();
  }

  private async requestOptions(
    method: HttpMethod,
    path: string,
    opts: { query?: Query; contentType?: string; payload?: string },
  ): Promise<https.RequestOptions> {
    const reqOpts = await this.credentialOptions();
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: http.OutgoingHttpHeaders = {
      ...(reqOpts.headers as http.OutgoingHttpHeaders | undefined),
      accept: 'application/json',
      'user-agent': 'modelops-operator',
      // Framed by its length: Node chunks a body only for methods that usually have one, so a DELETE's
      // (its propagationPolicy) went out unframed — ignored, and read as the start of the next request.
      ...(opts.payload !== undefined
        ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': Buffer.byteLength(opts.payload) }
        : {}),
    };
    return {
      ...reqOpts,
      agent: this.agentFor(reqOpts),
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method,
      headers,
    };
  }

  /** The kubeconfig's TLS material and headers, read at most once per CREDENTIALS_TTL_MS (or after a 401). */
  private credentialOptions(): Promise<https.RequestOptions> {
    const nowMs = this.clock.monotonicMs();
    if (!this.credentials || nowMs - this.credentials.atMs >= CREDENTIALS_TTL_MS) {
      const read = (async () => {
        const options: https.RequestOptions = {};
        await this.kubeConfig.applyToHTTPSOptions(options);
        return options;
      })();
      // A failed read (a file missing mid-rotation) is not kept: the next request reads again. Should a newer
      // read have replaced it meanwhile, that one goes too: it costs one more read, nothing else.
      read.catch(() => (this.credentials = undefined));
      this.credentials = { read, atMs: nowMs };
    }
    return this.credentials.read;
  }

  /** Unauthenticated: the credentials expired or were renewed, so the next request reads them again. */
  private forgetCredentialsIfRefused(status: number): void {
    if (status === 401) this.credentials = undefined;
  }

  /**
   * The shared keep-alive Agent; proxies keep client-node's agent. It holds no TLS material of its own: each
   * request carries the kubeconfig's (CA, client certificate, key) as read for it, and the Agent pools its
   * connections by that material, so a renewed client certificate goes out on a new connection (an Agent's own
   * TLS options would override every request's, and the first request's certificate would be sent for ever).
   */
  private agentFor(reqOpts: https.RequestOptions): http.Agent {
    if (this.kubeConfig.getCurrentCluster()?.proxyUrl && reqOpts.agent) return reqOpts.agent as http.Agent;
    const options = { keepAlive: true, maxFreeSockets: MAX_IDLE_CONNECTIONS };
    this.keepAliveAgent ??= this.lib === http ? new http.Agent(options) : new https.Agent(options);
    return this.keepAliveAgent;
  }

  private send<T>(reqOpts: https.RequestOptions, payload: string | undefined, signal?: AbortSignal): Promise<T> {
    const method = reqOpts.method as HttpMethod;
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const sentAt = performance.now();
      const req = this.lib.request(reqOpts, (res) => {
        collect(res).then((text) => {
          const status = res.statusCode ?? 0;
          this.observe(method, status, secondsSince(sentAt));
          this.forgetCredentialsIfRefused(status);
          if (status >= 400) {
            const err = apiErrorFrom(status, parseStatus(text), `${method} ${reqOpts.path}: HTTP ${status}`);
            return reject(Object.assign(err, { retryAfterMs: retryAfterMs(status, res.headers['retry-after']) }));
          }
          resolve((text ? JSON.parse(text) : undefined) as T);
        }, reject);
      });
      req.setTimeout(this.requestTimeoutMs, () => req.destroy(new Error(`${method} ${reqOpts.path}: timed out`)));
      const onAbort = (): void => void req.destroy(signal!.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal?.removeEventListener('abort', onAbort));
      req.on('error', (err: NodeJS.ErrnoException) => {
        this.observe(method, 'error', secondsSince(sentAt));
        if (signal?.aborted) return reject(signal.reason as Error);
        reject(Object.assign(err, { staleSocket: isStaleSocket(req.reusedSocket, err.code) }));
      });
      req.end(payload);
    });
  }
}

const secondsSince = (startMs: number): number => (performance.now() - startMs) / 1000;

type RetryableError = Error & { staleSocket?: boolean; retryAfterMs?: number };

/**
 * A kept-alive socket the server closed while it was idle: the request fails when its answer is read (reset) or,
 * when the close arrives while the body is still being written, on the write (broken pipe). Which of the two is
 * timing; both mean the request never reached the server whole.
 */
export const isStaleSocket = (reused: boolean, code: string | undefined): boolean =>
  reused && (code === 'ECONNRESET' || code === 'EPIPE');

/** When to send a refused request again: a 429, or a 5xx that says Retry-After (seconds, capped); else never. */
function retryAfterMs(status: number, header: string | undefined): number | undefined {
  const seconds = header === undefined ? undefined : Number(header);
  if (status !== 429 && (status < 500 || seconds === undefined)) return undefined;
  return Math.min(Number.isFinite(seconds) && seconds! >= 0 ? seconds! : 1, MAX_RETRY_AFTER_SECONDS) * 1000;
}

function collect(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function parseStatus(text: string): StatusBody | undefined {
  try {
    return JSON.parse(text) as StatusBody;
  } catch {
    return undefined;
  }
}
