// The Client and its transport against a local HTTP server standing in for the API server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { localKubeConfig } from './test-kubeconfig.test-helpers.js';
import { Client, type WatchEvent } from './client.js';
import { AlreadyExistsError, ConflictError, GoneError, NotFoundError } from './errors.js';
import { RestTransport } from './rest.js';
import type { ResourceRef } from './types.js';

const JOBS: ResourceRef = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };
type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

let server: http.Server;
let handler: Handler;
let connections = 0;
let client: Client;
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
  client = new Client(transport);
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

test.each([
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

test('server-side apply uses field manager modelops, forces, and sends an apply patch', async () => {
  let seen: { url?: string; type?: string; body?: string } = {};
  handler = (req, body, res) => {
    seen = { url: req.url, type: req.headers['content-type'], body };
    json(res, 200, JSON.parse(body));
  };
  await client.apply(JOBS, { apiVersion: 'batch/v1', kind: 'Job', metadata: { namespace: 'ml', name: 'j' } });
  expect(seen.url).toBe('/apis/batch/v1/namespaces/ml/jobs/j?fieldManager=modelops&force=true');
  expect(seen.type).toBe('application/apply-patch+yaml');
  expect(JSON.parse(seen.body!)).toMatchObject({ kind: 'Job', metadata: { name: 'j' } });
});

test('updateStatus PUTs the /status subresource', async () => {
  let url = '';
  handler = (req, body, res) => {
    url = `${req.method} ${req.url}`;
    json(res, 200, JSON.parse(body));
  };
  await client.updateStatus(JOBS, { metadata: { namespace: 'ml', name: 'j', resourceVersion: '3' }, status: {} });
  expect(url).toBe('PUT /apis/batch/v1/namespaces/ml/jobs/j/status');
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

  test('a malformed line fails the watch instead of throwing out of a socket callback', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED", not json\n');
    };
    await expect(client.watch(JOBS, watchOpts, () => {})).rejects.toThrow(SyntaxError);
  });

  test('a silent watch is aborted by the watchdog', async () => {
    handler = (_req, _body, res) => void res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
    await expect(client.watch(JOBS, { ...watchOpts, idleTimeoutMs: 100 }, () => {})).rejects.toThrow(/stalled/);
  });
});
