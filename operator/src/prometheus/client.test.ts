// The client over real HTTP against a local server that answers as the Prometheus HTTP API does
// (the real Prometheus is exercised by the integration tests on the test bed).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPrometheusClient, PrometheusError, binCounts, histogramQuery, matchers, readHistogram } from './index.js';

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
  let seen: { path?: string; query?: string | null; time?: string | null } = {};
  handler = (req, body, res) => {
    seen = { path: req.url, query: body.get('query'), time: body.get('time') };
    json(res, 200, {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { version: 'v1' }, value: [1700000000, '0.25'] },
          { metric: { version: 'v2' }, value: [1700000000, '+Inf'] },
          { metric: { version: 'v3' }, value: [1700000000, 'NaN'] },
        ],
      },
    });
  };
  const client = new HttpPrometheusClient({ url: `${url}/` });
  const samples = await client.query('rate(x[1m])', { time: new Date(1_700_000_000_500) });
  expect(seen).toEqual({ path: '/api/v1/query', query: 'rate(x[1m])', time: '1700000000.5' });
  expect(samples).toEqual([
    { labels: { version: 'v1' }, value: 0.25 },
    { labels: { version: 'v2' }, value: Infinity },
    { labels: { version: 'v3' }, value: NaN },
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
              metric: { a: 'b', step: body.get('step') },
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
      labels: { a: 'b', step: '2' },
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

test('a proxy error page (not JSON) is an HTTP error with its status', async () => {
  handler = (_req, _body, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html>Bad Gateway</html>');
  };
  const err = (await new HttpPrometheusClient({ url }).query('up').catch((e: unknown) => e)) as PrometheusError;
  expect(err.kind).toBe('http');
  expect(err.message).toMatch(/HTTP 502, not JSON: <html>Bad Gateway<\/html>/);
});

test('a server that does not answer times out with a message saying so', async () => {
  handler = () => undefined; // never answers
  const err = (await new HttpPrometheusClient({ url, timeoutMs: 50 })
    .query('up')
    .catch((e: unknown) => e)) as PrometheusError;
  expect(err.kind).toBe('timeout');
  expect(err.message).toMatch(/no answer in time for query `up`: no response within 50 ms/);
});

test("the caller's AbortSignal cancels a request in flight", async () => {
  handler = () => undefined;
  const controller = new AbortController();
  const pending = new HttpPrometheusClient({ url, timeoutMs: 60_000 }).query('up', { signal: controller.signal });
  controller.abort(new Error('reconcile deadline'));
  const err = (await pending.catch((e: unknown) => e)) as PrometheusError;
  expect(err.kind).toBe('aborted');
  expect(err.message).toMatch(/request cancelled .*reconcile deadline/);
});

test('a refused connection is "unreachable" with the system error', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const err = (await new HttpPrometheusClient({ url: `http://127.0.0.1:${port}` })
    .query('up')
    .catch((e: unknown) => e)) as PrometheusError;
  expect(err.kind).toBe('unreachable');
  expect(err.message).toMatch(new RegExp(`Prometheus http://127.0.0.1:${port}: unreachable .*ECONNREFUSED`));
});

describe('histograms', () => {
  test('label values are escaped as PromQL strings', () => {
    expect(matchers({ model: 'fraud', version: 'a"b\\c' })).toBe('{model="fraud",version="a\\"b\\\\c"}');
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
  ] as const)('cumulative buckets → counts per bin (%s)', (_case, buckets, expected) => {
    const counts = binCounts(buckets.map(([le, value]) => ({ labels: { le }, value })));
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
  });
});
