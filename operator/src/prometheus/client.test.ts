// The client over real HTTP against a local server that answers as the Prometheus HTTP API does
// (the real Prometheus is exercised by the integration tests on the test bed).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  HttpPrometheusClient,
  PrometheusError,
  binCounts,
  histogramQuery,
  matchers,
  readHistogram,
  readHistograms,
  type PrometheusErrorKind,
  type Sample,
} from './index.js';
import { refusedUrl } from '../runtime/testing/index.js';

type Handler = (req: IncomingMessage, body: URLSearchParams, res: ServerResponse) => void;
let server: Server;
let handler: Handler;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => handler(req, new URLSearchParams(raw), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

test('an instant query is POSTed form-encoded and its vector parsed, +Inf and NaN included', async () => {
  let seen: Record<string, string | null | undefined> = {};
  handler = (req, body, res) => {
    const { 'content-type': type, accept } = req.headers;
    seen = { path: req.url, type, accept, query: body.get('query'), time: body.get('time') };
    json(res, 200, {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { version: 'v1' }, value: [1700000000, '0.25'] },
          { metric: { version: 'v2' }, value: [1700000000, '+Inf'] },
          { metric: { version: 'v3' }, value: [1700000000, 'NaN'] },
          { metric: { version: 'v4' }, value: [1700000000, '-Inf'] },
        ],
      },
    });
  };
  const client = new HttpPrometheusClient({ url: `${url}//` });
  const samples = await client.query('rate(x[1m])', { time: new Date(1_700_000_000_500) });
  expect(seen).toEqual({
    path: '/api/v1/query',
    type: 'application/x-www-form-urlencoded',
    accept: 'application/json',
    query: 'rate(x[1m])',
    time: '1700000000.5',
  });
  expect(samples).toEqual([
    { labels: { version: 'v1' }, value: 0.25 },
    { labels: { version: 'v2' }, value: Infinity },
    { labels: { version: 'v3' }, value: NaN },
    { labels: { version: 'v4' }, value: -Infinity },
  ]);
});

test('a scalar result is one unlabelled sample; a range query returns series of points', async () => {
  handler = (req, body, res) => {
    if (req.url === '/api/v1/query')
      json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [1, '3'] } });
    else
      json(res, 200, {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: { a: 'b', start: body.get('start'), end: body.get('end'), step: body.get('step'), path: req.url },
              values: [
                [10, '1'],
                [12, '2'],
              ],
            },
          ],
        },
      });
  };
  const client = new HttpPrometheusClient({ url });
  expect(await client.query('scalar(1+2)')).toEqual([{ labels: {}, value: 3 }]);
  expect(await client.queryRange('x', { start: new Date(10_000), end: new Date(12_000), stepSeconds: 2 })).toEqual([
    {
      labels: { a: 'b', start: '10', end: '12', step: '2', path: '/api/v1/query_range' },
      points: [
        { time: new Date(10_000), value: 1 },
        { time: new Date(12_000), value: 2 },
      ],
    },
  ]);
});

test("a bad query fails with Prometheus's own words, the server and the query", async () => {
  handler = (_req, _body, res) =>
    json(res, 400, { status: 'error', errorType: 'bad_data', error: 'parse error at char 5: unexpected <EOF>' });
  const err = await new HttpPrometheusClient({ url }).query('rate(').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PrometheusError);
  expect((err as PrometheusError).kind).toBe('query');
  expect((err as Error).message).toBe(
    `Prometheus ${url}: query failed for query \`rate(\`: HTTP 400 bad_data: parse error at char 5: unexpected <EOF>`,
  );
});

const text =
  (status: number, body: string): Handler =>
  (_req, _body, res) =>
    res.writeHead(status).end(body);
const LONG = `sum(${'x'.repeat(250)})`;
const EXACT = `sum(${'x'.repeat(195)})`; // 200 characters: not cut
const WORDLESS = { status: 'error', detail: 'd'.repeat(300) };
const HELLO = 'hello '.repeat(50); // 300 characters, cut to 200
test.each<[string, Handler, 'query' | 'queryRange', string, PrometheusErrorKind, string]>([
  [
    'a proxy error page (not JSON)',
    text(502, '<html>Bad Gateway</html>'),
    'query',
    'up',
    'http',
    'HTTP error for query `up`: HTTP 502, not JSON: <html>Bad Gateway</html>',
  ],
  [
    'a 200 that is not JSON',
    text(200, HELLO),
    'query',
    'up',
    'response',
    `unreadable response for query \`up\`: HTTP 200, not JSON: ${HELLO.slice(0, 200)}`,
  ],
  [
    'an error without an errorType',
    (_q, _b, res) => json(res, 503, { status: 'error', error: 'too many queries' }),
    'query',
    'up',
    'http',
    'HTTP error for query `up`: HTTP 503: too many queries',
  ],
  [
    'an error without words',
    (_q, _b, res) => json(res, 500, WORDLESS),
    'query',
    'up',
    'http',
    `HTTP error for query \`up\`: HTTP 500: ${JSON.stringify(WORDLESS).slice(0, 200)}`,
  ],
  [
    'a success without data',
    (_q, _b, res) => json(res, 200, { status: 'success' }),
    'query',
    'up',
    'http',
    'HTTP error for query `up`: HTTP 200: {"status":"success"}',
  ],
  [
    'an error, even with data',
    (_q, _b, res) => json(res, 422, { status: 'error', error: 'no', data: { resultType: 'vector', result: [] } }),
    'query',
    'up',
    'http',
    'HTTP error for query `up`: HTTP 422: no',
  ],
  [
    'a matrix for an instant query',
    (_q, _b, res) => json(res, 200, { status: 'success', data: { resultType: 'matrix', result: [] } }),
    'query',
    'up',
    'response',
    'unreadable response for query `up`: expected a vector or scalar, got matrix',
  ],
  [
    'a vector for a range query',
    (_q, _b, res) => json(res, 200, { status: 'success', data: { resultType: 'vector', result: [] } }),
    'queryRange',
    'up',
    'response',
    'unreadable response for query `up`: expected a matrix, got vector',
  ],
  [
    'a bad long query (cut to 200 characters)',
    (_q, _b, res) => json(res, 400, { status: 'error', errorType: 'bad_data', error: 'boom' }),
    'query',
    LONG,
    'query',
    `query failed for query \`${LONG.slice(0, 200)}…\`: HTTP 400 bad_data: boom`,
  ],
  [
    'a bad query of 200 characters (whole)',
    (_q, _b, res) => json(res, 400, { status: 'error', errorType: 'bad_data', error: 'boom' }),
    'query',
    EXACT,
    'query',
    `query failed for query \`${EXACT}\`: HTTP 400 bad_data: boom`,
  ],
])('%s is a PrometheusError that says what failed', async (_case, answer, call, expr, kind, message) => {
  handler = answer;
  const client = new HttpPrometheusClient({ url });
  const range = { start: new Date(0), end: new Date(1000), stepSeconds: 1 };
  const err = await (call === 'query' ? client.query(expr) : client.queryRange(expr, range)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PrometheusError);
  expect(err).toMatchObject({ name: 'PrometheusError', kind, message: `Prometheus ${url}: ${message}` });
});

// The headers arrive, then the body does not: cut, stalled until the timeout, or cancelled by the caller (with a
// reason, or with none: `abort(null)`). The cut and the cancel come once 16 MiB of the body have been sent: more than
// the sockets' buffers take while nobody reads, so the client is reading the body by then, not still waiting for the
// headers (a cut or cancel right after the headers is still fetch's own failure, not the body's).
const BODY = 16 << 20;
test.each<[string, PrometheusErrorKind, RegExp]>([
  ['cut', 'unreachable', /: unreachable for query `up`: UND_ERR_SOCKET other side closed$/],
  ['stalled', 'timeout', /no answer in time for query `up`: response not complete within 100 ms$/],
  ['cancelled', 'aborted', /request cancelled for query `up`: Error: reconcile deadline$/],
  ['cancelled without a reason', 'aborted', /request cancelled for query `up`: aborted$/],
])('a body %s half-way fails the query as %s', async (how, kind, message) => {
  const controller = new AbortController();
  handler = (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 * BODY });
    if (how === 'stalled') res.write('{"status":');
    else
      res.write(Buffer.alloc(BODY, ' '), () => {
        if (how === 'cut') res.destroy();
        else controller.abort(how === 'cancelled' ? new Error('reconcile deadline') : null);
      });
  };
  const client = new HttpPrometheusClient({ url, timeoutMs: how === 'stalled' ? 100 : 60_000 });
  // The cut body without a caller's signal: the operator's own queries may come without one.
  const options = how === 'cut' ? {} : { signal: controller.signal };
  const err = await client.query('up', options).catch((e: unknown) => e);
  expect(err).toMatchObject({ kind, message: expect.stringMatching(message) });
});

test('a server that does not answer times out with a message saying so', async () => {
  handler = () => undefined; // never answers
  const err = (await new HttpPrometheusClient({ url, timeoutMs: 50 })
    .query('up')
    .catch((e: unknown) => e)) as PrometheusError;
  expect(err.kind).toBe('timeout');
  expect(err.message).toMatch(/no answer in time for query `up`: no response within 50 ms/);
});

test.each([
  [new Error('reconcile deadline'), 'Error: reconcile deadline'],
  [null, 'aborted'],
])("the caller's AbortSignal cancels a request in flight (reason %p)", async (reason, detail) => {
  handler = () => undefined;
  const controller = new AbortController();
  const pending = new HttpPrometheusClient({ url, timeoutMs: 60_000 }).query('up', { signal: controller.signal });
  controller.abort(reason);
  const err = (await pending.catch((e: unknown) => e)) as PrometheusError;
  expect(err.kind).toBe('aborted');
  expect(err.message).toBe(`Prometheus ${url}: request cancelled for query \`up\`: ${detail}`);
});

// What fetch says when it sends nothing: the system error's code and message (a refused connection), the cause's
// message where it has no code (a scheme fetch does not speak), fetch's own message where there is no cause (a URL
// with credentials, which fetch refuses).
test.each([
  ['a refused connection', 'http://127.0.0.1:PORT', 'ECONNREFUSED connect ECONNREFUSED 127.0.0.1:PORT'],
  ['a scheme other than HTTP', 'ftp://127.0.0.1:PORT', 'unknown scheme'],
  [
    'a URL with credentials',
    'http://user:pass@127.0.0.1:PORT',
    'Request cannot be constructed from a URL that includes credentials: http://user:pass@127.0.0.1:PORT/api/v1/query',
  ],
])('%s is "unreachable" with what fetch knows of it', async (_case, target, detail) => {
  const port = new URL(await refusedUrl()).port;
  const server = target.replace('PORT', port);
  const err = (await new HttpPrometheusClient({ url: server }).query('up').catch((e: unknown) => e)) as PrometheusError;
  expect(err.kind).toBe('unreachable');
  // Under Jest fetch's errors come from another realm than the test's Error, so one without a cause reads as
  // String(err), its name first; in the operator's one realm it is err.message.
  expect(err.message.replace(': TypeError: ', ': ')).toBe(
    `Prometheus ${server}: unreachable for query \`up\`: ${detail.replace('PORT', port)}`,
  );
});

describe('histograms', () => {
  test('label values are escaped as PromQL strings', () => {
    expect(matchers({ model: 'fraud', version: 'a"b\\c\nd' })).toBe('{model="fraud",version="a\\"b\\\\c\\nd"}');
    expect(histogramQuery({ metric: 'modelops_prediction_score', labels: { model: 'm' }, windowSeconds: 30 })).toBe(
      'sum by (le) (increase(modelops_prediction_score_bucket{model="m"}[30s]))',
    );
  });

  test.each([
    [
      'in order',
      [
        ['0.1', 2],
        ['0.5', 5],
        ['+Inf', 6],
      ],
      { upperBounds: [0.1, 0.5, Infinity], counts: [2, 3, 1], total: 6 },
    ],
    [
      'shuffled',
      [
        ['+Inf', 6],
        ['0.1', 2],
        ['0.5', 5],
      ],
      { upperBounds: [0.1, 0.5, Infinity], counts: [2, 3, 1], total: 6 },
    ],
    [
      'extrapolation noise makes a bucket dip: never a negative bin',
      [
        ['0.1', 2.2],
        ['0.5', 2.1],
        ['+Inf', 3.2],
      ],
      { upperBounds: [0.1, 0.5, Infinity], counts: [2.2, 0, 1], total: 3.2 },
    ],
    ['empty', [], { upperBounds: [], counts: [], total: 0 }],
    [
      'a series without `le` is no bucket',
      [
        [undefined, 4],
        ['+Inf', 6],
      ],
      { upperBounds: [Infinity], counts: [6], total: 6 },
    ],
  ] as const)('cumulative buckets → counts per bin (%s)', (_case, buckets, expected) => {
    const counts = binCounts(buckets.map(([le, value]): Sample => ({ labels: le === undefined ? {} : { le }, value })));
    expect(counts.upperBounds).toEqual(expected.upperBounds);
    counts.counts.forEach((c, i) => expect(c).toBeCloseTo(expected.counts[i]!, 10));
    expect(counts.total).toBeCloseTo(expected.total, 10);
  });

  test('readHistogram queries the window and returns undefined when there is no series', async () => {
    let query: string | null = null;
    let empty = false;
    handler = (_req, body, res) => {
      query = body.get('query');
      const result = empty
        ? []
        : [
            { metric: { le: '0.5' }, value: [1, '4'] },
            { metric: { le: '+Inf' }, value: [1, '10'] },
          ];
      json(res, 200, { status: 'success', data: { resultType: 'vector', result } });
    };
    const client = new HttpPrometheusClient({ url });
    const q = { metric: 'modelops_prediction_score', labels: { model: 'fraud', version: 'v2' }, windowSeconds: 60 };
    expect(await readHistogram(client, q)).toEqual({ upperBounds: [0.5, Infinity], counts: [4, 6], total: 10 });
    expect(query).toBe('sum by (le) (increase(modelops_prediction_score_bucket{model="fraud",version="v2"}[60s]))');
    empty = true;
    expect(await readHistogram(client, q)).toBeUndefined();
    // The caller's signal goes with the query: an aborted one cancels it, answer or not.
    const signal = AbortSignal.abort(new Error('reconcile deadline'));
    await expect(readHistogram(client, { ...q, signal })).rejects.toMatchObject({ kind: 'aborted' });
  });

  test('readHistograms keeps the `by` labels apart: one histogram per combination, keyed by their values and "/"', async () => {
    let query: string | null = null;
    handler = (_req, body, res) => {
      query = body.get('query');
      const bucket = (labels: Record<string, string>, value: string) => ({ metric: labels, value: [1, value] });
      const result = [
        bucket({ le: '1', feature: 'age', slice: 'eu' }, '2'),
        bucket({ le: '+Inf', feature: 'age', slice: 'eu' }, '5'),
        bucket({ le: '+Inf', feature: 'age', slice: 'us' }, '3'),
        bucket({ le: '+Inf', feature: 'income' }, '7'), // no slice label
      ];
      json(res, 200, { status: 'success', data: { resultType: 'vector', result } });
    };
    const q = { metric: 'modelops_feature', labels: { model: 'm' }, windowSeconds: 30, by: ['feature', 'slice'] };
    const histograms = await readHistograms(new HttpPrometheusClient({ url }), q);
    expect(query).toBe('sum by (le, feature, slice) (increase(modelops_feature_bucket{model="m"}[30s]))');
    expect(Object.fromEntries(histograms)).toEqual({
      'age/eu': { upperBounds: [1, Infinity], counts: [2, 3], total: 5 },
      'age/us': { upperBounds: [Infinity], counts: [3], total: 3 },
      'income/': { upperBounds: [Infinity], counts: [7], total: 7 },
    });
  });
});
