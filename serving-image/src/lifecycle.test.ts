/** @jest-environment ./serving-image/test/ort-environment.mjs */
// Loading, readiness, hot reload, batching and the metrics exposition, through real HTTP on the real fixture.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, inferBody, MODEL_PATH, parseExposition, startServer, type TestServer } from '../test/harness.js';

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

const loadBody = (uri: string, referenceUri?: string): string =>
  JSON.stringify({ parameters: { uri, reference_uri: referenceUri } });
const errorLines = (server: TestServer): string[] =>
  server.logs.filter((line) => line.level === 50).map((line) => String(line.msg));

describe('readiness', () => {
  let server: TestServer;
  afterEach(() => server.close());

  test('a missing model: not ready with a clear log line, then ready after a load request', async () => {
    server = await startServer({ MODEL_URI: join(dir, 'missing.onnx') });
    expect((await server.request('GET', '/v2/health/live')).status).toBe(200);
    expect((await server.request('GET', '/v2/health/ready')).status).toBe(503);
    expect((await server.request('GET', '/v2/models/fraud/ready')).json()).toEqual({ name: 'fraud', ready: false });
    const infer = await server.request('POST', '/v2/models/fraud/infer', inferBody());
    expect(infer.status).toBe(503);
    expect(infer.json().error).toBe("model 'fraud' is not loaded yet");
    expect((await server.request('GET', '/v2/models/fraud')).status).toBe(503);
    expect(errorLines(server)).toEqual([
      expect.stringMatching(/model load failed \(not ready\): .*missing\.onnx not found \(no such file\)/),
    ]);

    const load = await server.request('POST', '/v2/repository/models/fraud/load', loadBody(MODEL_PATH));
    expect(load.status).toBe(200);
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

    expect((await server.request('POST', '/v2/repository/models/fraud/load', loadBody(MODEL_PATH))).status).toBe(200);
    const failed = await server.request(
      'POST',
      '/v2/repository/models/fraud/load',
      loadBody(join(dir, 'corrupt.onnx')),
    );
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
    expect(
      (await server.request('POST', '/v2/repository/models/fraud/load', loadBody(MODEL_PATH, doubled))).status,
    ).toBe(200);
    expect(await sampleCount()).toBe(4000);
    expect(
      (await server.request('POST', '/v2/repository/models/fraud/load', loadBody(join(dir, 'model.onnx')))).status,
    ).toBe(200);
    expect(await sampleCount()).toBeUndefined();
  });

  test('unknown model or bad body on the load route', async () => {
    server = await startServer();
    expect((await server.request('POST', '/v2/repository/models/other/load', '')).status).toBe(404);
    expect(
      (await server.request('POST', '/v2/repository/models/fraud/load', '{"parameters":{"uri":5}}')).json().error,
    ).toMatch(/'parameters.uri' must be a non-empty string/);
  });
});

describe('serving under load', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ MODEL_ROLE: 'canary', MODEL_VERSION: '3' });
  });
  afterAll(() => server.close());

  const metrics = async () => parseExposition((await server.request('GET', '/metrics')).body.toString());

  test('a reload under load drops no request', async () => {
    const requests = Array.from({ length: 300 }, () => server.request('POST', '/v2/models/fraud/infer', inferBody(2)));
    const reload = server.request('POST', '/v2/repository/models/fraud/load', '');
    const more = Array.from({ length: 300 }, () => server.request('POST', '/v2/models/fraud/infer', inferBody(1)));
    const responses = await Promise.all([...requests, ...more]);
    expect((await reload).status).toBe(200);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    expect(server.logs.filter((line) => line.msg === 'model loaded, warmed and serving')).toHaveLength(2);
  });

  test('concurrent requests share session runs', async () => {
    const before = await metrics();
    const count = (all: typeof before, name: string) => all.find((s) => s.name === name)?.value ?? 0;
    await Promise.all(Array.from({ length: 64 }, () => server.request('POST', '/v2/models/fraud/infer', inferBody(1))));
    const after = await metrics();
    const runs =
      count(after, 'modelops_inference_batch_size_count') - count(before, 'modelops_inference_batch_size_count');
    const rows = count(after, 'modelops_inference_batch_size_sum') - count(before, 'modelops_inference_batch_size_sum');
    expect(rows).toBe(64);
    expect(runs).toBeLessThan(64);
    const largest = after.filter((s) => s.name === 'modelops_inference_batch_size_bucket' && s.labels.le === '1')[0]!
      .value;
    expect(largest).toBeLessThan(count(after, 'modelops_inference_batch_size_count'));
  });

  test('the exposition has the documented families, labels and reference buckets', async () => {
    await server.request('POST', '/v2/models/fraud/infer', '{');
    const samples = await metrics();
    for (const sample of samples.filter((s) => s.name.startsWith('modelops_'))) {
      expect(sample.labels).toMatchObject({ model: 'fraud', version: '3', role: 'canary' });
    }
    const requests = samples.filter((s) => s.name === 'modelops_inference_requests_total');
    expect(Object.fromEntries(requests.map((s) => [s.labels.code, s.value]))).toEqual({ '200': 664, '400': 1 });
    expect(samples.find((s) => s.name === 'modelops_inference_request_duration_seconds_count')?.value).toBe(665);

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
    const rowsServed = 300 * 2 + 300 + 64;
    const featureCount = samples.find(
      (s) => s.name === 'modelops_feature_value_count' && s.labels.feature === 'amount',
    )?.value;
    expect(featureCount).toBe(rowsServed);
    const predictions = samples.filter((s) => s.name === 'modelops_predictions_total');
    expect(predictions.map((s) => s.labels.class).sort()).toEqual(['fraud', 'legit']);
    expect(predictions.reduce((sum, s) => sum + s.value, 0)).toBe(rowsServed);
    expect(samples.find((s) => s.name === 'modelops_prediction_score_count')?.value).toBe(rowsServed);
  });
});
