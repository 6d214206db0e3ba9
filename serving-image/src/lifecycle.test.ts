/** @jest-environment ./serving-image/test/ort-environment.mjs */
// Loading, readiness, hot reload, batching and the metrics exposition, through real HTTP on the real fixture.
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONTROL_ENV,
  CONTROL_HEADERS,
  FIXTURES,
  inferBody,
  MODEL_PATH,
  parseExposition,
  startServer as startTestServer,
  type TestServer,
} from '../test/harness.js';

const REFERENCE = JSON.parse(readFileSync(`${FIXTURES}/reference.json`, 'utf8')) as {
  features: { name: string; binEdges: number[] }[];
  prediction: { score: { binEdges: number[] } };
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'serving-'));
  writeFileSync(join(dir, 'corrupt.onnx'), 'this is not a protobuf');
  copyFileSync(MODEL_PATH, join(dir, 'model.onnx')); // a model without a reference beside it
});

// These tests drive the load and unload routes, so model control is on.
const startServer = (env: Record<string, string> = {}) => startTestServer({ ...CONTROL_ENV, ...env });
const control = (server: TestServer, action: 'load' | 'unload', body = '') =>
  server.request('POST', `/v2/repository/models/fraud/${action}`, body, CONTROL_HEADERS);
const loadBody = (uri: string, referenceUri?: string, version = '1'): string =>
  JSON.stringify({ parameters: { uri, reference_uri: referenceUri, version } });
const errorLines = (server: TestServer): string[] =>
  server.logs.filter((line) => line.level === 50).map((line) => String(line.msg));

describe('readiness', () => {
  let server: TestServer;
  afterEach(() => server.close());

  test('a missing model: not ready with a clear log line, then ready after a load request', async () => {
    server = await startServer({ MODEL_URI: join(dir, 'missing.onnx') });
    expect((await server.request('GET', '/v2/health/live')).status).toBe(200);
    const ready = await server.request('GET', '/v2/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json()).toEqual({ ready: false });
    expect((await server.request('GET', '/v2/models/fraud/ready')).json()).toEqual({ name: 'fraud', ready: false });
    const infer = await server.request('POST', '/v2/models/fraud/infer', inferBody());
    expect(infer.status).toBe(503);
    expect(infer.json().error).toBe("model 'fraud' is not loaded yet");
    expect((await server.request('GET', '/v2/models/fraud')).status).toBe(503);
    expect(errorLines(server)).toEqual([
      expect.stringMatching(/model load failed \(not ready\): .*missing\.onnx not found \(no such file\)/),
    ]);

    const load = await control(server, 'load', loadBody(MODEL_PATH));
    expect(load.status).toBe(200);
    expect(load.json()).toEqual({});
    expect((await server.request('GET', '/v2/health/ready')).status).toBe(200);
    expect((await server.request('POST', '/v2/models/fraud/infer', inferBody())).status).toBe(200);
  });

  test('a failed first load is retried until the model appears', async () => {
    const path = join(dir, 'late.onnx');
    server = await startServer({ MODEL_URI: path, MODEL_LOAD_RETRY_INTERVAL: '10ms' });
    expect(server.app.core.isReady()).toBe(false);
    let failures = 0;
    await server.waitForLog(
      (line) => line.level === 50 && /late\.onnx not found/.test(String(line.msg)) && ++failures === 2,
    ); // retried
    copyFileSync(MODEL_PATH, path);
    await server.waitForLog((line) => line.msg === 'model loaded, warmed and serving');
    expect((await server.request('GET', '/v2/health/ready')).status).toBe(200);
  });

  test('a corrupt model is not ready; a failed reload keeps the previous model serving', async () => {
    server = await startServer({ MODEL_URI: join(dir, 'corrupt.onnx') });
    expect(server.app.core.isReady()).toBe(false);
    expect(errorLines(server)[0]).toMatch(/corrupt\.onnx is not a loadable ONNX model/);
    // onnxruntime's own error is kept as the cause: its stack is logged too.
    expect(server.logs.find((line) => line.level === 50)).toMatchObject({
      err: { stack: expect.stringMatching(/\ncaused by: Error: /) },
    });

    expect((await control(server, 'load', loadBody(MODEL_PATH))).status).toBe(200);
    const failed = await control(server, 'load', loadBody(join(dir, 'corrupt.onnx')));
    expect(failed.status).toBe(400);
    expect(failed.json().error).toMatch(/loading model 'fraud' failed: .*not a loadable ONNX model/);
    expect(errorLines(server).at(-1)).toMatch(/the previous model keeps serving/);
    expect((await server.request('POST', '/v2/models/fraud/infer', inferBody())).status).toBe(200);
  });

  test('an invalid reference fails the load with the reason', async () => {
    writeFileSync(join(dir, 'bad-reference.json'), JSON.stringify({ ...REFERENCE, kind: 'Other' }));
    server = await startServer({ REFERENCE_URI: join(dir, 'bad-reference.json') });
    expect(server.app.core.isReady()).toBe(false);
    expect(errorLines(server)[0]).toMatch(/invalid reference .*bad-reference\.json: \/kind/);
  });

  test('no reference: ready, a warning, and no drift histograms', async () => {
    server = await startServer({ MODEL_URI: join(dir, 'model.onnx') });
    expect(server.app.core.isReady()).toBe(true);
    expect(server.logs.some((line) => line.level === 40 && /no reference distribution/.test(String(line.msg)))).toBe(
      true,
    );
    await server.request('POST', '/v2/models/fraud/infer', inferBody());
    const samples = parseExposition((await server.request('GET', '/metrics')).body.toString());
    expect(samples.filter((s) => s.name.startsWith('modelops_feature_value'))).toEqual([]);
    expect(samples.find((s) => s.name === 'modelops_inference_requests_total')?.value).toBe(1);
  });

  test('a reload with another reference replaces the exported reference gauges', async () => {
    server = await startServer();
    const sampleCount = async () =>
      parseExposition((await server.request('GET', '/metrics')).body.toString()).find(
        (s) => s.name === 'modelops_reference_sample_count',
      )?.value;
    expect(await sampleCount()).toBe(2000);
    const doubled = join(dir, 'doubled-reference.json');
    writeFileSync(doubled, JSON.stringify({ ...REFERENCE, sampleCount: 4000 }));
    expect((await control(server, 'load', loadBody(MODEL_PATH, doubled))).status).toBe(200);
    expect(await sampleCount()).toBe(4000);
    expect((await control(server, 'load', loadBody(join(dir, 'model.onnx')))).status).toBe(200);
    expect(await sampleCount()).toBeUndefined();
  });

  test('a model and its reference on S3: fetched with the configured endpoint, region and key', async () => {
    const objects: Record<string, Buffer> = {
      '/bucket/fraud/model.onnx': readFileSync(MODEL_PATH),
      '/bucket/fraud/reference.json': readFileSync(`${FIXTURES}/reference.json`),
    };
    const seen: { url: string; authorization: string }[] = [];
    const s3 = createServer((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization ?? '' });
      const object = objects[req.url ?? ''];
      if (object) res.end(object);
      else res.writeHead(404).end();
    });
    s3.listen(0, '127.0.0.1');
    await once(s3, 'listening');
    try {
      server = await startServer({
        MODEL_URI: 's3://bucket/fraud/model.onnx',
        AWS_ACCESS_KEY_ID: 'AKID',
        AWS_SECRET_ACCESS_KEY: 'SECRET',
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(s3.address() as AddressInfo).port}`,
      });
      expect(server.app.core.isReady()).toBe(true);
      const samples = parseExposition((await server.request('GET', '/metrics')).body.toString());
      expect(samples.find((s) => s.name === 'modelops_reference_sample_count')?.value).toBe(2000);
      expect(seen.map((request) => request.url).sort()).toEqual(Object.keys(objects).sort());
      for (const { authorization } of seen) {
        expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/s3\/aws4_request,/);
      }
    } finally {
      s3.close();
    }
  });

  test('unknown model or bad body on the load route', async () => {
    server = await startServer();
    const other = await server.request('POST', '/v2/repository/models/other/load', '', CONTROL_HEADERS);
    expect(other.status).toBe(404);
    expect(other.json()).toEqual({ error: "unknown model 'other'; this server serves 'fraud'" });
    expect((await control(server, 'load', '{"parameters":{"uri":5}}')).json().error).toMatch(
      /'parameters.uri' must be a non-empty string/,
    );
  });
});

// Each test has its own server, so no total depends on what another test sent.
describe('serving under load', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer({ MODEL_ROLE: 'canary', MODEL_VERSION: '3' });
  });
  afterEach(() => server.close());

  const metrics = async () => parseExposition((await server.request('GET', '/metrics')).body.toString());
  const infer = (rows: number) => server.request('POST', '/v2/models/fraud/infer', inferBody(rows));

  test('a reload under load drops no request', async () => {
    const requests = Array.from({ length: 300 }, () => infer(2));
    const reload = control(server, 'load', '');
    const more = Array.from({ length: 300 }, () => infer(1));
    const responses = await Promise.all([...requests, ...more]);
    expect((await reload).status).toBe(200);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    expect(server.logs.filter((line) => line.msg === 'model loaded, warmed and serving')).toHaveLength(2);
    // Same features, edges and classes: the drift series kept counting across the swap.
    const samples = await metrics();
    expect(samples.find((s) => s.name === 'modelops_prediction_score_count')?.value).toBe(900);
  });

  test('concurrent requests share session runs', async () => {
    await Promise.all(Array.from({ length: 64 }, () => infer(1)));
    const samples = await metrics();
    const value = (name: string, le?: string) => samples.find((s) => s.name === name && s.labels.le === le)!.value;
    expect(value('modelops_inference_batch_size_sum')).toBe(64);
    expect(value('modelops_inference_batch_size_count')).toBeLessThan(64);
    expect(value('modelops_inference_batch_size_bucket', '1')).toBeLessThan(
      value('modelops_inference_batch_size_count'),
    );
  });

  test('the exposition has the documented families, labels, counts and reference buckets', async () => {
    await Promise.all([...Array.from({ length: 20 }, () => infer(2)), ...Array.from({ length: 10 }, () => infer(1))]);
    await server.request('POST', '/v2/models/fraud/infer', '{');
    const samples = await metrics();
    for (const sample of samples.filter((s) => s.name.startsWith('modelops_'))) {
      expect(sample.labels).toMatchObject({ model: 'fraud', version: '3', role: 'canary' });
    }
    const requests = samples.filter((s) => s.name === 'modelops_inference_requests_total');
    expect(Object.fromEntries(requests.map((s) => [s.labels.code, s.value]))).toEqual({ '200': 30, '400': 1 });
    expect(samples.find((s) => s.name === 'modelops_inference_request_duration_seconds_count')?.value).toBe(31);

    const buckets = (name: string, labels: Record<string, string> = {}) =>
      samples
        .filter((s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .map((s) => s.labels.le);
    for (const feature of REFERENCE.features) {
      expect(buckets('modelops_feature_value', { feature: feature.name })).toEqual([
        ...feature.binEdges.slice(1, -1).map(String),
        '+Inf',
      ]);
    }
    expect(buckets('modelops_prediction_score')).toEqual([
      ...REFERENCE.prediction.score.binEdges.slice(1, -1).map(String),
      '+Inf',
    ]);
    const rowsServed = 20 * 2 + 10;
    const featureCount = samples.find(
      (s) => s.name === 'modelops_feature_value_count' && s.labels.feature === 'amount',
    )?.value;
    expect(featureCount).toBe(rowsServed);
    // The fixture's first sample row is fraud, the second legit: 20 + 10 fraud, 20 legit.
    const predictions = samples.filter((s) => s.name === 'modelops_predictions_total');
    expect(Object.fromEntries(predictions.map((s) => [s.labels.class, s.value]))).toEqual({ fraud: 30, legit: 20 });
    expect(samples.find((s) => s.name === 'modelops_prediction_score_count')?.value).toBe(rowsServed);
  });
});

describe('model control', () => {
  let server: TestServer;
  afterEach(() => server.close());
  const metrics = async () => parseExposition((await server.request('GET', '/metrics')).body.toString());

  test('a different model needs its version; the version and the metric labels then follow it', async () => {
    server = await startServer({ MODEL_VERSION: '1' });
    expect((await server.request('POST', '/v2/models/fraud/infer', inferBody())).status).toBe(200);
    const other = join(dir, 'model.onnx');
    const unversioned = await control(server, 'load', JSON.stringify({ parameters: { uri: other } }));
    expect(unversioned.status).toBe(400);
    expect(unversioned.json().error).toMatch(/loading another model .* needs 'parameters.version'/);

    expect((await control(server, 'load', loadBody(other, undefined, '2'))).status).toBe(200);
    const response = await server.request('POST', '/v2/models/fraud/versions/2/infer', inferBody());
    expect(response.json().model_version).toBe('2');
    expect((await server.request('GET', '/v2/models/fraud')).json().versions).toEqual(['2']);
    expect((await server.request('GET', '/v2/models/fraud/versions/1')).status).toBe(404);
    expect((await server.request('POST', '/v2/repository/index')).json()).toEqual([
      { name: 'fraud', version: '2', state: 'READY' },
    ] as never);
    const samples = await metrics();
    for (const sample of samples.filter((s) => s.name.startsWith('modelops_') || s.name.startsWith('process_'))) {
      expect(sample.labels.version).toBe('2');
    }
    // Version 2's counters start from its own first request.
    const requests = samples.filter((s) => s.name === 'modelops_inference_requests_total');
    expect(Object.fromEntries(requests.map((s) => [s.labels.code, s.value]))).toEqual({ '200': 1 });

    // A reload from the same source keeps the version.
    expect((await control(server, 'load')).status).toBe(200);
    expect((await server.request('POST', '/v2/models/fraud/infer', inferBody())).json().model_version).toBe('2');
  });

  test('unload: not ready, no reference gauges, and a load brings the model back', async () => {
    server = await startServer();
    const unload = await control(server, 'unload');
    expect(unload.status).toBe(200);
    expect(unload.json()).toEqual({});
    expect((await server.request('GET', '/v2/health/ready')).status).toBe(503);
    expect((await server.request('GET', '/v2/models/fraud/ready')).json()).toEqual({ name: 'fraud', ready: false });
    expect((await server.request('POST', '/v2/models/fraud/infer', inferBody())).status).toBe(503);
    expect((await server.request('POST', '/v2/repository/index')).json()).toEqual([
      { name: 'fraud', version: '1', state: 'UNAVAILABLE' },
    ] as never);
    expect((await metrics()).some((s) => s.name.startsWith('modelops_reference_'))).toBe(false);
    expect((await server.request('POST', '/v2/repository/models/other/unload', '', CONTROL_HEADERS)).status).toBe(404);

    expect((await control(server, 'load')).status).toBe(200);
    expect((await server.request('POST', '/v2/models/fraud/infer', inferBody())).status).toBe(200);
    expect((await metrics()).find((s) => s.name === 'modelops_reference_sample_count')?.value).toBe(2000);
  });
});

describe('failures and shutdown', () => {
  let server: TestServer;
  afterEach(() => server.close());

  /** An infer request the server has started handling, its body not sent yet: the request is left open. */
  const inferArrived = async (headers: OutgoingHttpHeaders = {}) => {
    const arrived = once(server.app.front.server, 'request');
    const request = httpRequest({
      host: '127.0.0.1',
      port: server.port,
      method: 'POST',
      path: '/v2/models/fraud/infer',
      headers,
    });
    request.flushHeaders();
    await arrived;
    return request;
  };

  test('an unexpected failure is a 500 "internal error" that keeps its details in the error log', async () => {
    server = await startServer();
    // A collector that throws fails the scrape in prom-client: an error no route expects.
    const registry = server.app.metrics.registry;
    const { Gauge } = await import('prom-client');
    new Gauge({
      name: 'broken_collector',
      help: 'fails every scrape',
      registers: [registry],
      collect() {
        throw new Error('collector exploded');
      },
    });
    const response = await server.request('GET', '/metrics');
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toEqual({ error: 'internal error' });
    expect(server.logs.filter((line) => line.level === 50)).toEqual([
      expect.objectContaining({
        msg: 'unexpected error handling a request',
        err: expect.objectContaining({ message: 'collector exploded' }),
      }),
    ]);
    expect((await server.request('POST', '/v2/models/fraud/infer', inferBody())).status).toBe(200);
  });

  test('a drain answers the request in flight with Connection: close, then refuses new connections', async () => {
    server = await startServer();
    expect((await server.request('GET', '/v2/health/live')).headers.connection).toBe('keep-alive');
    const front = server.app.front;
    const inFlight = await inferArrived(); // the server is handling it, its body not yet sent
    const answered = once(inFlight, 'response') as Promise<[IncomingMessage]>;
    const drained = front.drain(60_000);
    inFlight.end(inferBody());
    const [response] = await answered;
    response.resume();
    expect(response.statusCode).toBe(200);
    expect(response.headers.connection).toBe('close');
    await drained;
    await expect(server.request('GET', '/v2/health/live')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('shutdown stops listening, then releases the model', async () => {
    server = await startServer();
    await server.app.shutdown();
    expect(server.app.core.isReady()).toBe(false);
    await expect(server.request('GET', '/v2/health/live')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('a drain cuts a request still unfinished when its time is up', async () => {
    server = await startServer();
    const front = server.app.front;
    const stuck = await inferArrived({ 'content-length': 1000 }); // its body never comes
    const cut = once(stuck, 'error');
    await front.drain(1);
    expect((await cut)[0]).toMatchObject({ code: 'ECONNRESET' });
  });
});
