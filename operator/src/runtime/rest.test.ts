// The transport against local servers: kept-alive connections (and one the server dropped), the caller's signal,
// what is reported, a proxy, TLS and client certificates from the kubeconfig.
import { getEventListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { KubeConfig, type Cluster, type User } from '@kubernetes/client-node';
import { localKubeConfig } from './test-kubeconfig.test-helpers.js';
import { FakeClock } from './testing/fake-clock.js';
import { isStaleSocket, RestTransport, type HttpMethod } from './rest.js';

/** What the server does with a request: `served` counts the requests its connection had before. */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, served: number) => void;

let server: http.Server;
let handler: Handler;
let requests: string[];
/** Each request's body as the server read it, after its content type and length: "type length body". */
let bodies: string[];
let transport: RestTransport;
const earlier = new WeakMap<Socket, number>();

const ok = (res: http.ServerResponse): void =>
  void res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"Ok"}');
/** Closes the connection without an answer: what a client reusing an idle one the server timed out sees. */
const drop = (req: http.IncomingMessage): void => void req.socket.destroy();

beforeEach(async () => {
  requests = [];
  bodies = [];
  handler = (_req, res) => ok(res);
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const served = earlier.get(req.socket) ?? 0;
    earlier.set(req.socket, served + 1);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      bodies.push(`${req.headers['content-type']} ${req.headers['content-length']} ${body}`);
      handler(req, res, served);
    });
  });
  server.keepAliveTimeout = 60_000; // idle connections end only when the client closes them
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  transport = new RestTransport(localKubeConfig(port(server)));
});

afterEach(async () => {
  transport.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const port = (s: net.Server): number => (s.address() as AddressInfo).port;

/** A KubeConfig whose current context is `cluster` and `user` (by default, one without credentials). */
function kubeConfigFor(
  cluster: Omit<Cluster, 'name' | 'skipTLSVerify'> & { skipTLSVerify?: boolean },
  user: Omit<User, 'name'> = {},
): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', ...cluster }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kubeConfig;
}

/** A transport to the test's server that reports each answer (or failure) it gets, as "METHOD status". */
function observingWith(kubeConfig: KubeConfig): { observed: string[]; transport: RestTransport } {
  const observed: string[] = [];
  return {
    observed,
    transport: new RestTransport(kubeConfig, {
      observe: (method: HttpMethod, code) => observed.push(`${method} ${code}`),
    }),
  };
}
const observing = () => observingWith(localKubeConfig(port(server)));

/** Opens `n` keep-alive connections: n requests, answered once all have arrived. */
async function warm(n: number): Promise<void> {
  const waiting: (() => void)[] = [];
  handler = (_req, res) => {
    waiting.push(() => ok(res));
    if (waiting.length === n) for (const send of waiting) send();
  };
  await Promise.all(Array.from({ length: n }, () => transport.request('GET', '/warm')));
  requests = [];
}

test('a kubeconfig without a current cluster is refused', () => {
  expect(() => new RestTransport(new KubeConfig())).toThrow('kubeconfig has no current cluster');
});

test('requests share a kept-alive connection, which close() ends: a request after it needs a new one', async () => {
  const connections: Socket[] = [];
  server.on('connection', (socket: Socket) => connections.push(socket));
  await transport.request('GET', '/a');
  await transport.request('GET', '/b');
  expect(connections).toHaveLength(1);
  const closed = new Promise((resolve) => connections[0]!.on('close', resolve));
  transport.close();
  // (Node's global agent, which keeps connections alive too, would have sent this one on the first connection.)
  await transport.request('GET', '/c');
  expect(connections).toHaveLength(2);
  await closed;
});

describe('a kept-alive connection the server closed', () => {
  test('is sent again once, on a new connection, unless a POST (it may have been applied)', async () => {
    await warm(1);
    handler = (req, res, served) => (served > 0 ? drop(req) : ok(res));
    await expect(transport.request('GET', '/a')).resolves.toEqual({ kind: 'Ok' });
    expect(requests).toEqual(['GET /a', 'GET /a']);

    await warm(1);
    handler = (req, res, served) => (served > 0 ? drop(req) : ok(res));
    await expect(transport.request('POST', '/a', { body: {} })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(requests).toEqual(['POST /a']);
  });

  test('is sent again only once: a second closed connection in a row fails the request', async () => {
    await warm(2);
    handler = (req, res, served) => (served > 0 ? drop(req) : ok(res));
    await expect(transport.request('GET', '/a')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(requests).toEqual(['GET /a', 'GET /a']);
  });

  // A reset is what the tests above produce; a broken pipe needs the close to land during the body's write.
  test.each([
    ['a kept connection reset counts', true, 'ECONNRESET', true],
    ['a kept connection with a broken pipe counts', true, 'EPIPE', true],
    ['a new connection reset does not count', false, 'ECONNRESET', false],
    ['a new connection with a broken pipe does not count', false, 'EPIPE', false],
    ['a kept connection timing out does not count', true, 'ETIMEDOUT', false],
    ['a kept connection failing without a code does not count', true, undefined, false],
  ])('%s as closed while idle', (_, reused, code, stale) => {
    expect(isStaleSocket(reused, code)).toBe(stale);
  });

  test('a reset of a new connection, or a garbled answer on a kept one, is not sent again', async () => {
    handler = (req) => drop(req);
    await expect(transport.request('GET', '/new')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(requests).toEqual(['GET /new']);

    await warm(1);
    handler = (req, res, served) => (served > 0 ? void req.socket.end('garbage\r\n\r\n') : ok(res));
    await expect(transport.request('GET', '/garbled')).rejects.toMatchObject({ code: 'HPE_INVALID_CONSTANT' });
    expect(requests).toEqual(['GET /garbled']);
  });
});

test('what a request carries: JSON accepted, the operator named, a body framed by its type and length', async () => {
  const seen: http.IncomingHttpHeaders[] = [];
  handler = (req, res) => {
    seen.push(req.headers);
    ok(res);
  };
  await transport.request('GET', '/a', { query: { limit: 5, continue: undefined, watch: false } });
  await transport.request('DELETE', '/a', { body: { propagationPolicy: 'Background' } });
  await transport.request('PATCH', '/a', { body: { spec: { é: 1 } }, contentType: 'application/merge-patch+json' });
  expect(requests).toEqual(['GET /a?limit=5&watch=false', 'DELETE /a', 'PATCH /a']);
  expect(seen.map((h) => [h.accept, h['user-agent'], h['content-type'], h['content-length']])).toEqual([
    ['application/json', 'modelops-operator', undefined, undefined],
    ['application/json', 'modelops-operator', 'application/json', '34'],
    ['application/json', 'modelops-operator', 'application/merge-patch+json', '17'],
  ]);
});

test('an empty answer resolves as undefined', async () => {
  handler = (_req, res) => void res.writeHead(200).end();
  await expect(transport.request('DELETE', '/a')).resolves.toBeUndefined();
});

test('an answer cut off midway rejects, and is not sent again', async () => {
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"kind":', () => res.destroy());
  };
  await expect(transport.request('GET', '/a')).rejects.toMatchObject({ code: 'ECONNRESET', message: 'aborted' });
  expect(requests).toEqual(['GET /a']);
});

test('a request with no answer within the timeout fails, saying which', async () => {
  handler = () => {}; // never answers
  const impatient = new RestTransport(localKubeConfig(port(server)), { requestTimeoutMs: 50 });
  try {
    await expect(impatient.request('GET', '/api/v1/pods')).rejects.toThrow('GET /api/v1/pods: timed out');
  } finally {
    impatient.close();
  }
});

test('each answer, and each request that got none, is reported with its method', async () => {
  const { observed, transport: reporting } = observing();
  try {
    await reporting.request('GET', '/a');
    handler = (_req, res) => void res.writeHead(404).end();
    await expect(reporting.request('DELETE', '/a')).rejects.toMatchObject({ status: 404 });
    handler = (req) => drop(req);
    await expect(reporting.request('POST', '/a', { body: {} })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(observed).toEqual(['GET 200', 'DELETE 404', 'POST error']);
  } finally {
    reporting.close();
  }
});

test('each request is reported with how long it took, a watch until its response began', async () => {
  const seconds: number[] = [];
  const timing = new RestTransport(localKubeConfig(port(server)), { observe: (_m, _c, s) => seconds.push(s) });
  try {
    handler = (_req, res) => void setTimeout(() => ok(res), 60);
    await timing.request('GET', '/slow');
    handler = (_req, res) =>
      void setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' }).write('{"type":"ADDED"}\n');
        setTimeout(() => res.end(), 200);
      }, 60);
    const streamed = performance.now();
    await timing.stream('/w', {}, () => undefined, { idleTimeoutMs: 5000 });
    const streamSeconds = (performance.now() - streamed) / 1000;
    expect(seconds).toHaveLength(2);
    expect(seconds[0]).toBeGreaterThanOrEqual(0.06);
    expect(seconds[1]).toBeGreaterThanOrEqual(0.06);
    expect(seconds[1]).toBeLessThan(streamSeconds - 0.1);
  } finally {
    timing.close();
  }
});

describe("the caller's signal", () => {
  /** A server that never answers; resolves once the request has arrived. */
  function silent(): Promise<void> {
    return new Promise((arrived) => (handler = () => arrived()));
  }

  test.each([
    ['an Error', new Error('reconcile deadline')],
    ['any other value', 'shutting down'],
  ])('aborts a request in flight: it rejects with the reason as given (%s)', async (_what, reason) => {
    const arrived = silent();
    const abort = new AbortController();
    const pending = transport.request('GET', '/slow', { signal: abort.signal });
    await arrived;
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(reason).not.toHaveProperty('staleSocket');
  });

  test('fired while the request is prepared, it sends nothing', async () => {
    const abort = new AbortController();
    const pending = transport.request('PUT', '/a', { body: {}, signal: abort.signal });
    const reason = new Error('shutdown');
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(requests).toEqual([]);
  });

  test('a request that ended, answered or refused, leaves no listener on it', async () => {
    const signal = new AbortController().signal;
    await transport.request('GET', '/a', { signal });
    handler = (_req, res) => void res.writeHead(500).end();
    await expect(transport.request('GET', '/b', { signal })).rejects.toMatchObject({ status: 500 });
    expect(getEventListeners(signal, 'abort')).toEqual([]);
  });
});

test("a kubeconfig's proxy-url: requests go through a tunnel the proxy opens", async () => {
  const tunnels: string[] = [];
  const sockets: Socket[] = [];
  const proxy = http.createServer().on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    tunnels.push(req.url!);
    const [host, upstreamPort] = req.url!.split(':');
    const upstream = net.connect(Number(upstreamPort), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    sockets.push(client, upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxied = new RestTransport(
    kubeConfigFor({
      server: `http://127.0.0.1:${port(server)}`,
      proxyUrl: `http://127.0.0.1:${port(proxy)}`,
      skipTLSVerify: true,
    }),
  );
  try {
    await expect(proxied.request('GET', '/a')).resolves.toEqual({ kind: 'Ok' });
    expect(requests).toEqual(['GET /a']);
    expect(tunnels).toEqual([`127.0.0.1:${port(server)}`]);
  } finally {
    proxied.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => proxy.close(r));
  }
});

test('a server URL with a path: every request goes under it', async () => {
  const prefixed = new RestTransport(
    kubeConfigFor({ server: `http://127.0.0.1:${port(server)}/k8s/`, skipTLSVerify: true }),
  );
  try {
    await prefixed.request('GET', '/api/v1/pods');
    expect(requests).toEqual(['GET /k8s/api/v1/pods']);
  } finally {
    prefixed.close();
  }
});

describe('stream (a watch)', () => {
  const opts = { idleTimeoutMs: 10_000 };

  test('skips blank lines; each answer and failure is reported', async () => {
    const { observed, transport: watching } = observing();
    try {
      handler = (_req, res) => void res.writeHead(200).end('\n  \n{"a":1}\n\n{"a":2}\n');
      const lines: string[] = [];
      await watching.stream('/w', { watch: true }, (line) => lines.push(line), opts);
      expect(lines).toEqual(['{"a":1}', '{"a":2}']);
      expect(requests).toEqual(['GET /w?watch=true']);

      handler = (_req, res) =>
        void res
          .writeHead(403, { 'content-type': 'application/json' })
          .end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'no watching' }));
      await expect(watching.stream('/w', {}, () => {}, opts)).rejects.toMatchObject({
        status: 403,
        reason: 'Forbidden',
        message: 'no watching',
      });

      handler = (_req, res) => void res.writeHead(400).end('bad');
      await expect(watching.stream('/w', {}, () => {}, opts)).rejects.toMatchObject({ status: 400, message: 'bad' });

      handler = (req) => drop(req);
      await expect(watching.stream('/w', {}, () => {}, opts)).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(observed).toEqual(['GET 200', 'GET 403', 'GET 400', 'GET error']);
    } finally {
      watching.close();
    }
  });

  test('a response cut off midway rejects as aborted, after the lines that arrived whole', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('{"a":1}\n', () => res.destroy());
    };
    const lines: string[] = [];
    await expect(transport.stream('/w', {}, (line) => lines.push(line), opts)).rejects.toThrow(
      'watch response aborted',
    );
    expect(lines).toEqual(['{"a":1}']);
  });
});

// A throwaway self-signed certificate for 127.0.0.1, for this test only.
const CERT = `-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgIUJkWNU/MPXXbQcvPG4AzkqVzQFgswCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEzMDAzMzQxNloYDzIxMjYxMTA2
MDMzNDE2WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAThzO0GevmI+APp2r+NltNEnC4MZprzK/uBiQ11pwH8J6Su0MBbmA0N
TxFix8e0y29mAhK8nW7L62KKOF6tnkxio2QwYjAdBgNVHQ4EFgQUI/eSCTlkFGZ8
OgQ+SGJImeVbZ4wwHwYDVR0jBBgwFoAUI/eSCTlkFGZ8OgQ+SGJImeVbZ4wwDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
IQC6Mabuw/7yUaXOG47SnD21sS0MpKp/LzWf0t7sy0Y7ugIgFfA/dnszTQRpau+R
q1o6DNwKz6++UNtfqJ4ZK9y+u9I=
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7n7DuPdI1VLgxpri
APVeYQ25eqs0aQDkIJUy2jqP1BqhRANCAAThzO0GevmI+APp2r+NltNEnC4MZprz
K/uBiQ11pwH8J6Su0MBbmA0NTxFix8e0y29mAhK8nW7L62KKOF6tnkxi
-----END PRIVATE KEY-----
`;
// Another one, for a client certificate that replaces the first (CN modelops-test-client).
const RENEWED_CERT = `-----BEGIN CERTIFICATE-----
MIIBljCCATugAwIBAgIUDc+8Drglmnenan50BT0SJy+XeV0wCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUbW9kZWxvcHMtdGVzdC1jbGllbnQwIBcNMjYxMTMwMDUzMzEw
WhgPMjEyNjExMDYwNTMzMTBaMB8xHTAbBgNVBAMMFG1vZGVsb3BzLXRlc3QtY2xp
ZW50MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEdT2Xl1u9g8emsNnm7XKh0T9h
oyH8eoSAFqSwOSKAt57JpefSxI2cWOVCNfTGefuEGW5UfaXLmtjgdeLXgw+5UqNT
MFEwHQYDVR0OBBYEFNw9NGl8BlbV1HapBdLoEfArcdjPMB8GA1UdIwQYMBaAFNw9
NGl8BlbV1HapBdLoEfArcdjPMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID
SQAwRgIhAO8YqUQ1fVHW4S9zpkde0wLAeUERKP1qI2+IzjNcFFAAAiEAu9io3RHV
vjXrvN0HcorgJzwfWBVEfR0E1DodJTv44Hs=
-----END CERTIFICATE-----
`;
const RENEWED_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMTT999NjKdt90mj1
2HNVSMDMjq9mfx0xJWLM1K+mOtmhRANCAAR1PZeXW72Dx6aw2ebtcqHRP2GjIfx6
hIAWpLA5IoC3nsml59LEjZxY5UI19MZ5+4QZblR9pcua2OB14teDD7lS
-----END PRIVATE KEY-----
`;

/** An HTTPS server on 127.0.0.1 with the certificate above; `url` to reach it, `connections` it accepted so far. */
async function httpsServer(options: https.ServerOptions, onRequest: http.RequestListener) {
  const tls = https.createServer({ cert: CERT, key: KEY, ...options }, onRequest);
  let connections = 0;
  tls.on('secureConnection', () => connections++);
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${port(tls)}`,
    connections: () => connections,
    close: async () => {
      tls.closeAllConnections();
      await new Promise((r) => tls.close(r));
    },
  };
}
const CA_DATA = Buffer.from(CERT).toString('base64');

test("HTTPS: the server is verified against the kubeconfig's CA, over one kept-alive connection", async () => {
  const tls = await httpsServer({}, (_req, res) => ok(res));
  const { url } = tls;
  const secure = new RestTransport(kubeConfigFor({ server: url, caData: CA_DATA }));
  // without the CA, only a kubeconfig that says insecure-skip-tls-verify gets through
  const unverified = (skipTLSVerify: boolean) => new RestTransport(kubeConfigFor({ server: url, skipTLSVerify }));
  const skipping = unverified(true);
  const verifying = unverified(false);
  try {
    await expect(secure.request('GET', '/a')).resolves.toEqual({ kind: 'Ok' });
    await expect(secure.request('GET', '/b')).resolves.toEqual({ kind: 'Ok' });
    expect(tls.connections()).toBe(1);
    await expect(skipping.request('GET', '/c')).resolves.toEqual({ kind: 'Ok' });
    await expect(verifying.request('GET', '/d')).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  } finally {
    skipping.close();
    verifying.close();
    secure.close();
    await tls.close();
  }
});

test("HTTPS: a client certificate renewed in the kubeconfig's files is presented once the credentials are a minute old", async () => {
  const presented: string[] = [];
  const tls = await httpsServer({ requestCert: true, rejectUnauthorized: false }, (req, res) => {
    presented.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
    ok(res);
  });
  const dir = await mkdtemp(join(tmpdir(), 'rest-test-'));
  const [certFile, keyFile] = [join(dir, 'client.crt'), join(dir, 'client.key')];
  const issue = async (cert: string, key: string) => {
    await writeFile(certFile, cert);
    await writeFile(keyFile, key);
  };
  const clock = new FakeClock();
  const kubeConfig = kubeConfigFor({ server: tls.url, caData: CA_DATA }, { certFile, keyFile });
  const client = new RestTransport(kubeConfig, { clock });
  try {
    await issue(CERT, KEY);
    await client.request('GET', '/a');
    await issue(RENEWED_CERT, RENEWED_KEY);
    clock.advance(59_999);
    await client.request('GET', '/b');
    clock.advance(1);
    await client.request('GET', '/c');
    expect(presented).toEqual(['127.0.0.1', '127.0.0.1', 'modelops-test-client']);
    expect(tls.connections()).toBe(2);
  } finally {
    client.close();
    await tls.close();
    await rm(dir, { recursive: true });
  }
});

describe("the kubeconfig's credentials", () => {
  /** A kubeconfig whose token the test changes, as a renewal would; the server takes only `accepted`. */
  function renewable() {
    const kubeConfig = localKubeConfig(port(server), 'first');
    const seen: string[] = [];
    let accepted = 'first';
    handler = (req, res) => {
      const token = String(req.headers.authorization).replace('Bearer ', '');
      seen.push(token);
      if (token === accepted) return ok(res);
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"kind":"Status","code":401}');
    };
    const renew = (token: string) => {
      (kubeConfig.getCurrentUser() as { token?: string }).token = token;
      accepted = token;
    };
    return { kubeConfig, seen, renew };
  }

  test('are read once a minute, not for every request', async () => {
    const { kubeConfig, seen } = renewable();
    const clock = new FakeClock();
    clock.advance(5_000); // the age is counted from the read, not from the clock's zero
    const client = new RestTransport(kubeConfig, { clock });
    try {
      await client.request('GET', '/a');
      (kubeConfig.getCurrentUser() as { token?: string }).token = 'second';
      clock.advance(59_999);
      await client.request('GET', '/b');
      clock.advance(1);
      await expect(client.request('GET', '/c')).rejects.toMatchObject({ status: 401 });
      expect(seen).toEqual(['first', 'first', 'second', 'second']);
    } finally {
      client.close();
    }
  });

  test('refused as unauthenticated, a request is sent once more with them read again; refused again, it fails', async () => {
    const { kubeConfig, seen, renew } = renewable();
    const { observed, transport: client } = observingWith(kubeConfig);
    try {
      await client.request('GET', '/a');
      renew('second');
      const post = { body: { n: 1 }, query: { fieldManager: 'm' }, contentType: 'application/apply-patch+yaml' };
      await expect(client.request('POST', '/b', post)).resolves.toEqual({ kind: 'Ok' });
      expect(seen).toEqual(['first', 'first', 'second']);
      // The same request the second time: its query, its body and the body's type.
      expect(requests.slice(1)).toEqual(['POST /b?fieldManager=m', 'POST /b?fieldManager=m']);
      expect(bodies.slice(1)).toEqual(Array(2).fill('application/apply-patch+yaml 7 {"n":1}'));
      // Read again after the 401, the credentials serve the next requests without another refusal.
      await client.request('GET', '/c');
      expect(seen.slice(3)).toEqual(['second']);

      renew('third');
      (kubeConfig.getCurrentUser() as { token?: string }).token = 'wrong';
      await expect(client.request('GET', '/d')).rejects.toMatchObject({ status: 401 });
      expect(seen.slice(4)).toEqual(['second', 'wrong']);
      expect(observed).toEqual(['GET 200', 'POST 401', 'POST 200', 'GET 200', 'GET 401', 'GET 401']);
    } finally {
      client.close();
    }
  });

  test('a read that failed (a file missing mid-rotation) is not kept: the next request reads them again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rest-test-'));
    const certFile = join(dir, 'client.crt');
    const local = { server: `http://127.0.0.1:${port(server)}`, skipTLSVerify: true };
    const client = new RestTransport(kubeConfigFor(local, { certFile }));
    try {
      await expect(client.request('GET', '/a')).rejects.toMatchObject({ code: 'ENOENT' });
      await writeFile(certFile, CERT);
      await expect(client.request('GET', '/b')).resolves.toEqual({ kind: 'Ok' });
      expect(requests).toEqual(['GET /b']);
    } finally {
      client.close();
      await rm(dir, { recursive: true });
    }
  });

  test('a watch refused as unauthenticated has the next request read them again', async () => {
    const { kubeConfig, seen, renew } = renewable();
    const client = new RestTransport(kubeConfig);
    try {
      await client.request('GET', '/a');
      renew('second');
      await expect(client.stream('/w', {}, () => undefined, { idleTimeoutMs: 5000 })).rejects.toMatchObject({
        status: 401,
      });
      await client.request('GET', '/b');
      expect(seen).toEqual(['first', 'first', 'second']);
    } finally {
      client.close();
    }
  });
});
