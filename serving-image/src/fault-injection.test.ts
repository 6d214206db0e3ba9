/** @jest-environment ./serving-image/test/ort-environment.mjs */
// Contract C2 through real HTTP: the MODELOPS_FAULT_* knobs change what clients and the metrics see.
import { inferBody, parseExposition, SAMPLES, startServer, type TestServer } from '../test/harness.js';

let server: TestServer | undefined;
afterEach(() => server?.close());

const metrics = async (s: TestServer) => parseExposition((await s.request('GET', '/metrics')).body.toString());

test('none of them is on unless set', async () => {
  server = await startServer();
  expect(server.logs.some((line) => /fault injection/.test(String(line.msg)))).toBe(false);
  const response = await server.request('POST', '/v2/models/fraud/infer', inferBody(4));
  expect(response.status).toBe(200);
  const data = (response.json().outputs as { data: number[] }[])[0]!.data;
  data.forEach((value, i) => expect(value).toBeCloseTo(SAMPLES.probabilities[i >> 1]![i % 2]!, 5));
});

test('MODELOPS_FAULT_ERROR_RATE=1 answers every inference 500 "injected fault", counted like any 500', async () => {
  server = await startServer({ MODELOPS_FAULT_ERROR_RATE: '1' });
  // The warning says which faults are on.
  expect(server.logs.find((line) => line.level === 40 && /fault injection is on/.test(String(line.msg)))).toMatchObject(
    {
      faults: { errorRate: 1, latencyMillis: 0, scoreShift: 0 },
    },
  );
  for (let i = 0; i < 3; i++) {
    const response = await server.request('POST', '/v2/models/fraud/infer', inferBody());
    expect(response.status).toBe(500);
    expect(response.json()).toEqual({ error: 'injected fault' });
  }
  expect((await server.request('GET', '/v2/health/ready')).status).toBe(200);
  const requests = (await metrics(server)).filter((s) => s.name === 'modelops_inference_requests_total');
  expect(Object.fromEntries(requests.map((s) => [s.labels.code, s.value]))).toEqual({ '500': 3 });
});

test('MODELOPS_FAULT_LATENCY is added to every inference and seen in the duration histogram', async () => {
  server = await startServer({ MODELOPS_FAULT_LATENCY: '60ms' });
  const sent = performance.now();
  expect((await server.request('POST', '/v2/models/fraud/infer', inferBody())).status).toBe(200);
  const answered = performance.now();
  const samples = await metrics(server);
  const buckets = samples.filter((s) => s.name === 'modelops_inference_request_duration_seconds_bucket');
  const bucket = (le: string) => buckets.find((s) => s.labels.le === le)!.value;
  expect(bucket('0.05')).toBe(0); // nothing faster than the added latency
  expect(bucket('+Inf')).toBe(1);
  // In seconds, and within what the client saw (the server runs in this process, on the same clock).
  const seconds = samples.find((s) => s.name === 'modelops_inference_request_duration_seconds_sum')!.value;
  expect(seconds).toBeGreaterThanOrEqual(0.06);
  expect(seconds).toBeLessThanOrEqual((answered - sent) / 1000);
});

test('MODELOPS_FAULT_SCORE_SHIFT moves the positive class in the response, the score histogram and the predictions', async () => {
  const shift = 0.5;
  server = await startServer({ MODELOPS_FAULT_SCORE_SHIFT: String(shift) });
  const response = await server.request('POST', '/v2/models/fraud/infer', inferBody(4));
  const data = (response.json().outputs as { data: number[] }[])[0]!.data;
  const expected = SAMPLES.probabilities.map(([, fraud]) => Math.min(1, fraud! + shift));
  expected.forEach((p, row) => {
    expect(data[row * 2 + 1]).toBeCloseTo(p, 5);
    expect(data[row * 2]).toBeCloseTo(1 - p, 5);
  });
  const samples = await metrics(server);
  const scoreSum = samples.find((s) => s.name === 'modelops_prediction_score_sum')!.value;
  expect(scoreSum).toBeCloseTo(
    expected.reduce((a, b) => a + b),
    5,
  );
  const predictions = samples.filter((s) => s.name === 'modelops_predictions_total');
  const fraud = expected.filter((p) => p > 0.5).length;
  expect(Object.fromEntries(predictions.map((s) => [s.labels.class, s.value]))).toEqual({
    fraud,
    legit: 4 - fraud,
  });
});
