// The Client and its transport against a local HTTP server standing in for the API server.
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { localKubeConfig } from './test-kubeconfig.test-helpers.js';
import { RestClient, type WatchEvent } from './client.js';
import {
  AlreadyExistsError,
  ApiError,
  ConflictError,
  GoneError,
  NotFoundError,
  ReconcileAbortedError,
} from './errors.js';
import { RestTransport } from './rest.js';
import { FakeClock } from './testing/fake-clock.js';
import type { ResourceRef } from './types.js';

const JOBS: ResourceRef = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };
type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

let server: http.Server;
let handler: Handler;
let connections = 0;
let client: RestClient;
let transport: RestTransport;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, body, res));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  transport = new RestTransport(localKubeConfig((server.address() as AddressInfo).port, 'secret-token'));
  client = new RestClient(transport);
});

afterAll(async () => {
  transport.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const json = (res: http.ServerResponse, status: number, body: unknown): void =>
  void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const status = (code: number, reason: string) => ({
  kind: 'Status',
  status: 'Failure',
  code,
  reason,
  message: `${reason}!`,
});

test('builds paths, sends the bearer token, reuses one connection', async () => {
  const seen: string[] = [];
  handler = (req, _body, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    json(res, 200, { metadata: { name: 'j' } });
  };
  const before = connections;
  await client.get(JOBS, { namespace: 'ml', name: 'j' });
  await client.get({ group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false }, { name: 'n1' });
  await client.get(JOBS, { namespace: 'ml', name: 'j' });
  expect(seen).toEqual([
    'GET /apis/batch/v1/namespaces/ml/jobs/j Bearer secret-token',
    'GET /api/v1/nodes/n1 Bearer secret-token',
    'GET /apis/batch/v1/namespaces/ml/jobs/j Bearer secret-token',
  ]);
  expect(connections - before).toBe(1);
});

test('a burst of many concurrent requests keeps its connections for the next burst (no handshake per burst)', async () => {
  const burst = (n: number) => {
    // answered only once all n are in flight at once, each on its own connection
    const waiting: (() => void)[] = [];
    handler = (_req, _body, res) => {
      waiting.push(() => json(res, 200, { metadata: { name: 'j' } }));
      if (waiting.length === n) for (const send of waiting) send();
    };
    return Promise.all(Array.from({ length: n }, () => client.get(JOBS, { namespace: 'ml', name: 'j' })));
  };
  await burst(40);
  const before = connections;
  await burst(40);
  expect(connections - before).toBe(0);
});

test.each([
  [400, 'BadRequest', ApiError],
  [404, 'NotFound', NotFoundError],
  [409, 'AlreadyExists', AlreadyExistsError],
  [409, 'Conflict', ConflictError],
  [410, 'Expired', GoneError],
])('HTTP %d %s → %p with .status', async (code, reason, type) => {
  handler = (_req, _body, res) => json(res, code, status(code, reason));
  const err = await client.get(JOBS, { namespace: 'ml', name: 'j' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(type);
  expect(err).toMatchObject({ status: code, reason, message: `${reason}!` });
});

test('list follows continue tokens and keeps the first page resourceVersion', async () => {
  handler = (req, _body, res) => {
    const url = new URL(req.url!, 'http://x');
    expect(url.searchParams.get('labelSelector')).toBe('app=a');
    if (!url.searchParams.get('continue'))
      json(res, 200, { metadata: { resourceVersion: '7', continue: 'next' }, items: [{ metadata: { name: 'a' } }] });
    else json(res, 200, { metadata: { resourceVersion: '9' }, items: [{ metadata: { name: 'b' } }] });
  };
  const list = await client.list(JOBS, { namespace: 'ml', labelSelector: 'app=a' });
  expect(list.items.map((i) => i.metadata?.name)).toEqual(['a', 'b']);
  expect(list.metadata?.resourceVersion).toBe('7');
});

test("list maps each page's items as the page arrives (an informer drops managedFields before the next page)", async () => {
  const pages: string[] = [];
  handler = (req, _body, res) => {
    const cont = new URL(req.url!, 'http://x').searchParams.get('continue');
    pages.push(cont ?? 'first');
    const item = { metadata: { name: cont ? 'b' : 'a', managedFields: [{ manager: 'kubectl' }] } };
    json(res, 200, { metadata: { resourceVersion: '7', continue: cont ? undefined : 'next' }, items: [item] });
  };
  const mapped: string[] = [];
  const list = await client.list(JOBS, {}, (item) => {
    mapped.push(`${item.metadata!.name} after ${pages.length} page(s)`);
    const { managedFields: _, ...metadata } = item.metadata!;
    return { ...item, metadata };
  });
  expect(mapped).toEqual(['a after 1 page(s)', 'b after 2 page(s)']);
  expect(list.items).toEqual([{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }]);
});

test('server-side apply: the field manager, no force unless asked, an apply patch; /status too', async () => {
  const seen: { url?: string; type?: string; body?: string }[] = [];
  handler = (req, body, res) => {
    seen.push({ url: `${req.method} ${req.url}`, type: req.headers['content-type'], body });
    json(res, 200, JSON.parse(body));
  };
  const job = { metadata: { namespace: 'ml', name: 'j' }, spec: { suspend: true } };
  await client.apply(JOBS, job);
  await client.scoped({ fieldManager: 'modelops-trainingjob' }).apply(JOBS, job, { force: true });
  await client.applyStatus(JOBS, { metadata: job.metadata, status: { active: 1 } });
  expect(seen.map((s) => s.url)).toEqual([
    'PATCH /apis/batch/v1/namespaces/ml/jobs/j?fieldManager=modelops',
    'PATCH /apis/batch/v1/namespaces/ml/jobs/j?fieldManager=modelops-trainingjob&force=true',
    'PATCH /apis/batch/v1/namespaces/ml/jobs/j/status?fieldManager=modelops',
  ]);
  expect(seen.every((s) => s.type === 'application/apply-patch+yaml')).toBe(true);
  // apiVersion and kind come from the ResourceRef when the object lacks them
  expect(JSON.parse(seen[0]!.body!)).toEqual({ apiVersion: 'batch/v1', kind: 'Job', ...job });
});

test("every write names the client's field manager, so managedFields say which controller wrote what", async () => {
  const urls: string[] = [];
  handler = (req, body, res) => {
    urls.push(`${req.method} ${req.url}`);
    json(res, 200, body ? JSON.parse(body) : {});
  };
  const scoped = client.scoped({ fieldManager: 'modelops-trainingjob' });
  const job = { metadata: { namespace: 'ml', name: 'j', resourceVersion: '3' } };
  await scoped.create(JOBS, job);
  await scoped.update(JOBS, job);
  await scoped.patch(JOBS, { namespace: 'ml', name: 'j' }, { spec: { suspend: false } });
  await scoped.updateStatus(JOBS, job);
  expect(urls).toEqual([
    'POST /apis/batch/v1/namespaces/ml/jobs?fieldManager=modelops-trainingjob',
    'PUT /apis/batch/v1/namespaces/ml/jobs/j?fieldManager=modelops-trainingjob',
    'PATCH /apis/batch/v1/namespaces/ml/jobs/j?fieldManager=modelops-trainingjob',
    'PUT /apis/batch/v1/namespaces/ml/jobs/j/status?fieldManager=modelops-trainingjob',
  ]);
});

test("a scoped client's signal aborts a request the server never answers, with the signal's reason", async () => {
  let arrived!: () => void;
  const requestArrived = new Promise<void>((r) => (arrived = r));
  handler = () => arrived(); // never answers
  const abort = new AbortController();
  const pending = client.scoped({ signal: abort.signal }).get(JOBS, { namespace: 'ml', name: 'slow' });
  await requestArrived;
  const reason = new ReconcileAbortedError('deadline', 'reconcile did not finish within 10 ms');
  abort.abort(reason);
  await expect(pending).rejects.toBe(reason);
  // an aborted signal sends nothing at all
  await expect(client.scoped({ signal: abort.signal }).get(JOBS, { namespace: 'ml', name: 'x' })).rejects.toBe(reason);
});

test("delete sends its propagationPolicy, and the connection's next request is answered normally", async () => {
  const seen: string[] = [];
  handler = (req, body, res) => {
    seen.push(`${req.method} ${req.url} ${body}`);
    json(res, 200, { metadata: { name: 'j' } });
  };
  const before = connections;
  await client.delete(JOBS, { namespace: 'ml', name: 'j' });
  await client.get(JOBS, { namespace: 'ml', name: 'j' });
  expect(seen).toEqual([
    'DELETE /apis/batch/v1/namespaces/ml/jobs/j {"propagationPolicy":"Background"}',
    'GET /apis/batch/v1/namespaces/ml/jobs/j ',
  ]);
  expect(connections - before).toBeLessThanOrEqual(1); // the same keep-alive socket, still in step
});

test('a namespaced resource without a namespace is refused before anything is sent', () => {
  const seen: string[] = [];
  handler = (req, _body, res) => {
    seen.push(`${req.method} ${req.url}`);
    json(res, 200, {});
  };
  expect(() => client.get(JOBS, { name: 'j' })).toThrow('Job j: namespace required');
  expect(seen).toEqual([]);
});

test('each answer is reported with its method and status; an error without a Status body names the request', async () => {
  const observed: string[] = [];
  const observing = new RestTransport(localKubeConfig((server.address() as AddressInfo).port), {
    observe: (method, code) => observed.push(`${method} ${code}`),
  });
  const c = new RestClient(observing);
  try {
    handler = (_req, _body, res) => json(res, 200, { metadata: { resourceVersion: '1' }, items: [] });
    await c.get(JOBS, { namespace: 'ml', name: 'j' });
    await c.list(JOBS, { namespace: 'ml' });
    handler = (_req, _body, res) => void res.writeHead(500, { 'content-type': 'text/plain' }).end('oops');
    const err = await c.get(JOBS, { namespace: 'ml', name: 'j' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500, message: 'GET /apis/batch/v1/namespaces/ml/jobs/j: HTTP 500' });
    expect(observed).toEqual(['GET 200', 'GET 200', 'GET 500']);
  } finally {
    observing.close();
  }
});

test('a list answered without metadata has no resourceVersion', async () => {
  handler = (_req, _body, res) => json(res, 200, { items: [{ metadata: { name: 'a' } }] });
  await expect(client.list(JOBS)).resolves.toEqual({ metadata: {}, items: [{ metadata: { name: 'a' } }] });
});

test('a patch is a merge patch unless another type is asked for', async () => {
  const types: (string | undefined)[] = [];
  handler = (req, _body, res) => {
    types.push(req.headers['content-type']);
    json(res, 200, {});
  };
  const key = { namespace: 'ml', name: 'j' };
  await client.patch(JOBS, key, { spec: { suspend: false } });
  await client.patch(JOBS, key, [{ op: 'remove', path: '/spec/suspend' }], 'json');
  await client.patch(JOBS, key, { spec: { suspend: false } }, 'strategic');
  expect(types).toEqual([
    'application/merge-patch+json',
    'application/json-patch+json',
    'application/strategic-merge-patch+json',
  ]);
});

test('an object created without metadata goes to the collection of the whole cluster', async () => {
  let url = '';
  handler = (req, body, res) => {
    url = `${req.method} ${req.url}`;
    json(res, 200, JSON.parse(body));
  };
  const nodes: ResourceRef = { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false };
  await client.create(nodes, { spec: {} });
  expect(url).toBe('POST /api/v1/nodes?fieldManager=modelops');
});

describe('throttled by the API server', () => {
  /** Answers with each status in turn (headers with it), then 200. */
  function answers(...refusals: [number, Record<string, string>][]) {
    let calls = 0;
    handler = (_req, _body, res) => {
      const [code, headers] = refusals[calls++] ?? [200, {}];
      res.writeHead(code, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(code === 200 ? { metadata: { name: 'j' } } : status(code, 'TooManyRequests')));
    };
    return () => calls;
  }

  test('a 429 (priority and fairness) is sent again after its Retry-After, a POST too: it was not served', async () => {
    const calls = answers([429, { 'retry-after': '0' }], [429, { 'retry-after': '0' }]);
    await expect(client.create(JOBS, { metadata: { namespace: 'ml', name: 'j' } })).resolves.toMatchObject({
      metadata: { name: 'j' },
    });
    expect(calls()).toBe(3);
  });

  test.each([
    [503, '0', 2],
    [500, '0', 2],
    [500, undefined, 1],
    [409, '0', 1],
  ])(
    'a 5xx is retried only when it says Retry-After, another 4xx never: HTTP %d, Retry-After %p, sent %d time(s)',
    async (code, after, sent) => {
      const calls = answers([code, after === undefined ? {} : { 'retry-after': after }]);
      const got = client.get(JOBS, { namespace: 'ml', name: 'j' });
      if (sent > 1) await expect(got).resolves.toMatchObject({ metadata: { name: 'j' } });
      else await expect(got).rejects.toMatchObject({ status: code });
      expect(calls()).toBe(sent);
    },
  );

  test('the wait for Retry-After ends with the reconcile: its signal aborts it', async () => {
    const calls = answers([429, { 'retry-after': '10' }]);
    const abort = new AbortController();
    const pending = client.scoped({ signal: abort.signal }).get(JOBS, { namespace: 'ml', name: 'j' });
    while (calls() === 0) await new Promise((r) => setImmediate(r));
    const reason = new ReconcileAbortedError('deadline', 'too late');
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(calls()).toBe(1);
  });

  test('it gives up after ten attempts with the 429', async () => {
    const calls = answers(
      ...Array.from({ length: 10 }, (): [number, Record<string, string>] => [429, { 'retry-after': '0' }]),
    );
    await expect(client.get(JOBS, { namespace: 'ml', name: 'j' })).rejects.toMatchObject({ status: 429 });
    expect(calls()).toBe(10);
  });

  describe("the wait before it is sent again (on the transport's clock)", () => {
    let clock: FakeClock;
    let timed: RestTransport;
    beforeEach(() => {
      clock = new FakeClock();
      timed = new RestTransport(localKubeConfig((server.address() as AddressInfo).port, 'secret-token'), { clock });
    });
    afterEach(() => timed.close());

    test.each([
      [429, '3', 3_000],
      [503, '30', 10_000],
      [429, '-5', 1_000],
      [429, 'Fri, 31 Dec 1999 23:59:59 GMT', 1_000],
      [429, undefined, 1_000],
    ])(
      'HTTP %d with Retry-After %p: %d ms (seconds, at most 10; 1 s when not a number of seconds)',
      async (code, after, ms) => {
        const calls = answers([code, after === undefined ? {} : { 'retry-after': after }]);
        const waits = clock.nextTimer();
        const got = new RestClient(timed).get(JOBS, { namespace: 'ml', name: 'j' });
        await waits; // refused: it waits
        clock.advance(ms - 1);
        expect(clock.pendingTimers()).toBe(1);
        clock.advance(1);
        expect(clock.pendingTimers()).toBe(0);
        await expect(got).resolves.toMatchObject({ metadata: { name: 'j' } });
        expect(calls()).toBe(2);
      },
    );
  });
});

test('updateStatus PUTs the /status subresource', async () => {
  let url = '';
  handler = (req, body, res) => {
    url = `${req.method} ${req.url}`;
    json(res, 200, JSON.parse(body));
  };
  await client.updateStatus(JOBS, { metadata: { namespace: 'ml', name: 'j', resourceVersion: '3' }, status: {} });
  expect(url).toBe('PUT /apis/batch/v1/namespaces/ml/jobs/j/status?fieldManager=modelops');
});

describe('watch', () => {
  const watchOpts = { resourceVersion: '5', timeoutSeconds: 60, idleTimeoutMs: 10_000 };

  test('streams events split across chunks, with bookmarks requested, and resolves when the server ends', async () => {
    let query = '';
    handler = (req, _body, res) => {
      query = req.url!;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"6"}}}\n{"type":"BOOK');
      res.end('MARK","object":{"metadata":{"resourceVersion":"8"}}}\n');
    };
    const events: WatchEvent[] = [];
    await client.watch(JOBS, watchOpts, (e) => events.push(e));
    expect(events.map((e) => `${e.type} ${e.object.metadata?.resourceVersion}`)).toEqual(['ADDED 6', 'BOOKMARK 8']);
    expect(query).toContain('watch=true');
    expect(query).toContain('resourceVersion=5');
    expect(query).toContain('allowWatchBookmarks=true');
  });

  test('an ERROR event with code 410 rejects with GoneError', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired') })}\n`); // and keeps the stream open
    };
    await expect(client.watch(JOBS, watchOpts, () => {})).rejects.toBeInstanceOf(GoneError);
  });

  test('an ERROR event without a message rejects with its code', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ERROR', object: { code: 503 } })}\n`);
    };
    await expect(client.watch(JOBS, watchOpts, () => {})).rejects.toMatchObject({
      status: 503,
      message: 'watch ERROR 503',
    });
  });

  test("an ERROR event rejects with its Status's code, reason and message; what follows it is not delivered", async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(
        `${JSON.stringify({ type: 'ERROR', object: status(403, 'Forbidden') })}\n` +
          `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`,
      );
    };
    const events: WatchEvent[] = [];
    await expect(client.watch(JOBS, watchOpts, (e) => events.push(e))).rejects.toMatchObject({
      status: 403,
      reason: 'Forbidden',
      message: 'Forbidden!',
    });
    expect(events).toEqual([]);
  });

  test("a watch leaves no listener on the caller's signal once it ends", async () => {
    const signal = new AbortController().signal;
    handler = (_req, _body, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end();
    await client.watch(JOBS, { ...watchOpts, signal }, () => {});
    handler = (_req, _body, res) => json(res, 500, status(500, 'InternalError'));
    await expect(client.watch(JOBS, { ...watchOpts, signal }, () => {})).rejects.toMatchObject({ status: 500 });
    expect(getEventListeners(signal, 'abort')).toEqual([]);
  });

  test('a malformed line fails the watch instead of throwing out of a socket callback', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED", not json\n');
    };
    await expect(client.watch(JOBS, watchOpts, () => {})).rejects.toThrow(SyntaxError);
  });

  test('a watch whose signal fired before it started ends at once (an informer stopped during its list)', async () => {
    let requested = false;
    handler = (_req, _body, res) => {
      requested = true;
      res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
    };
    const signal = AbortSignal.abort();
    await expect(client.watch(JOBS, { ...watchOpts, signal }, () => {})).rejects.toMatchObject({ name: 'AbortError' });
    expect(requested).toBe(false);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  test('a silent watch is aborted by the watchdog', async () => {
    handler = (_req, _body, res) => void res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
    await expect(client.watch(JOBS, { ...watchOpts, idleTimeoutMs: 100 }, () => {})).rejects.toThrow(/stalled/);
  });
});
