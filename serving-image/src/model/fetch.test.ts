import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { gzipSync } from 'node:zlib';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createFetcher, NotFoundError, s3ObjectUrl, siblingUri } from './fetch.js';
import { signRequest } from './sigv4.js';

const FIXTURE = 'serving-image/test/fixtures/reference.json';
const LARGE = randomBytes(3 << 20);
const GZIPPED = gzipSync(LARGE);
let server: Server;
let endpoint: string;
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/models/fraud/model.onnx' || req.url === '/bucket/fraud/model.onnx') res.end('model-bytes');
    else if (req.url === '/large.onnx') res.writeHead(200, { 'content-length': LARGE.length }).end(LARGE);
    else if (req.url === '/gzipped.onnx')
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': GZIPPED.length }).end(GZIPPED);
    else if (req.url === '/chunked.onnx') {
      res.write(LARGE.subarray(0, 1000));
      res.end(LARGE.subarray(1000));
    } else if (req.url === '/short.onnx') {
      res.writeHead(200, { 'content-length': LARGE.length }).write(LARGE.subarray(0, 1000));
      res.destroy();
    } else if (req.url === '/verbose') res.writeHead(500).end('x'.repeat(300));
    else if (req.url === '/forbidden') res.writeHead(403).end();
    else res.writeHead(req.url === '/broken' ? 500 : 404).end('nope');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const S3_KEY = { accessKeyId: 'AKID', secretAccessKey: 'SECRET', sessionToken: undefined };
const fetcher = createFetcher({ timeoutMillis: 5000, s3: { ...S3_KEY, region: 'us-east-1', endpointUrl: '' } });

test('reads local paths and file:// URIs', async () => {
  const viaPath = await fetcher(FIXTURE);
  const viaUrl = await fetcher(pathToFileURL(FIXTURE).toString());
  expect(Buffer.from(viaUrl).equals(Buffer.from(viaPath))).toBe(true);
  const missing = fetcher('/no/such/model.onnx');
  await expect(missing).rejects.toBeInstanceOf(NotFoundError);
  await expect(missing).rejects.toHaveProperty('name', 'NotFoundError'); // as logs show it
  // A path with :// inside is still a path (a scheme only starts a URI).
  await expect(fetcher('/models/a://b/model.onnx')).rejects.toBeInstanceOf(NotFoundError);
});

test('reads http URIs and tells a 404 from other failures', async () => {
  expect(Buffer.from(await fetcher(`${endpoint}/models/fraud/model.onnx`)).toString()).toBe('model-bytes');
  await expect(fetcher(`${endpoint}/missing`)).rejects.toBeInstanceOf(NotFoundError);
  await expect(fetcher(`${endpoint}/broken`)).rejects.toThrow(/HTTP 500/);
});

test('a large body arrives whole, with a Content-Length, compressed or chunked; a cut one fails', async () => {
  for (const path of ['/large.onnx', '/gzipped.onnx', '/chunked.onnx']) {
    expect(Buffer.from(await fetcher(`${endpoint}${path}`)).equals(LARGE)).toBe(true);
  }
  await expect(fetcher(`${endpoint}/short.onnx`)).rejects.toThrow();
});

test('signs S3 GETs against a path-style endpoint', async () => {
  const s3 = { ...S3_KEY, region: 'eu-west-1', endpointUrl: endpoint };
  const s3Fetcher = createFetcher({ timeoutMillis: 5000, s3 });
  expect(Buffer.from(await s3Fetcher('s3://bucket/fraud/model.onnx')).toString()).toBe('model-bytes');
  const request = seen.at(-1)!;
  expect(request.url).toBe('/bucket/fraud/model.onnx');
  expect(request.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
  expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  expect(request.headers.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
  );
  // The signature is a GET's of that object at that time (sigv4.test.ts checks signRequest against AWS's examples).
  const signedAt = new Date(
    String(request.headers['x-amz-date']).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const url = new URL(`${endpoint}/bucket/fraud/model.onnx`);
  expect(request.headers.authorization).toBe(signRequest('GET', url, {}, s3, signedAt).authorization);
});

test('https URIs are fetched over TLS', async () => {
  // A plain TCP server: the first bytes it receives are a TLS handshake record (type 22) or not.
  const firstBytes: number[] = [];
  const tcp = createTcpServer((socket) => socket.once('data', (data) => (firstBytes.push(data[0]!), socket.destroy())));
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  try {
    await expect(fetcher(`https://127.0.0.1:${(tcp.address() as AddressInfo).port}/model.onnx`)).rejects.toThrow(
      'fetch failed',
    );
    expect(firstBytes).toEqual([22]);
  } finally {
    tcp.close();
  }
});

test('rejects S3 without credentials and unknown schemes', async () => {
  const anonymous = createFetcher({ timeoutMillis: 1000, s3: undefined });
  await expect(anonymous('s3://bucket/key')).rejects.toThrow(/AWS_ACCESS_KEY_ID/);
  await expect(anonymous('gs://bucket/key')).rejects.toThrow(/unsupported URI scheme "gs"/);
});

test('finds the reference beside the model', () => {
  expect(siblingUri('/models/fraud/model.onnx', 'reference.json')).toBe('/models/fraud/reference.json');
  expect(siblingUri('/models/a://b/model.onnx', 'reference.json')).toBe('/models/a:/b/reference.json'); // a path
  expect(siblingUri('s3://bucket/fraud/v2/model.onnx', 'reference.json')).toBe('s3://bucket/fraud/v2/reference.json');
  expect(siblingUri('https://host/a/model.onnx?x=1', 'reference.json')).toBe('https://host/a/reference.json');
});

test.each([
  [undefined, 'https://b.s3.eu-west-1.amazonaws.com/k/m.onnx'],
  ['http://minio:9000/', 'http://minio:9000/b/k/m.onnx'],
  ['http://minio:9000//', 'http://minio:9000/b/k/m.onnx'],
])('addresses AWS virtual-hosted and a custom endpoint (%s) path-style', (endpointUrl, expected) => {
  expect(s3ObjectUrl('b', 'k/m.onnx', { region: 'eu-west-1', endpointUrl }).toString()).toBe(expected);
});

test('the scheme is case-insensitive', async () => {
  expect(
    Buffer.from(await fetcher(`HTTP://127.0.0.1:${new URL(endpoint).port}/models/fraud/model.onnx`)).toString(),
  ).toBe('model-bytes');
  await expect(fetcher(pathToFileURL('/no/such/model.onnx').toString().replace('file:', 'FILE:'))).rejects.toThrow(
    'FILE:///no/such/model.onnx not found (no such file)',
  );
});

test('a local path that cannot be read for another reason is that error, not "not found"', async () => {
  const failure = fetcher('serving-image/test/fixtures');
  await expect(failure).rejects.not.toBeInstanceOf(NotFoundError);
  await expect(failure).rejects.toMatchObject({ code: 'EISDIR' });
});

test.each([
  ['/broken', 'GET {}/broken failed: HTTP 500 nope'],
  ['/verbose', `GET {}/verbose failed: HTTP 500 ${'x'.repeat(200)}`],
  ['/forbidden', 'GET {}/forbidden failed: HTTP 403'],
  ['/missing', '{}/missing not found (HTTP 404)'],
])('a failed GET of %s says which URI, the status and the start of the body', async (path, message) => {
  await expect(fetcher(`${endpoint}${path}`)).rejects.toHaveProperty('message', message.replace('{}', endpoint));
});

test.each(['s3://bucket-only', 's3://bucket/', 's3://bucket/key\nx', 's3:///s3://bucket/key'])(
  '%j is no S3 URI (it needs a bucket and a key)',
  async (uri) => {
    await expect(fetcher(uri)).rejects.toHaveProperty('message', `S3 URI must look like s3://bucket/key, got ${uri}`);
  },
);

test('each segment of an S3 key is URI-encoded, its slashes kept', () => {
  expect(s3ObjectUrl('b', 'fraud v2/model#1.onnx', { region: 'r', endpointUrl: 'http://minio:9000' }).pathname).toBe(
    '/b/fraud%20v2/model%231.onnx',
  );
  expect(s3ObjectUrl('b', 'fraud v2/m.onnx', { region: 'r', endpointUrl: undefined }).pathname).toBe(
    '/fraud%20v2/m.onnx',
  );
});
