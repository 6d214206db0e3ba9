/** @jest-environment ./serving-image/test/ort-environment.mjs */
// The Open Inference Protocol routes through real HTTP on the real ONNX fixture.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { FIXTURES, inferBody, parseExposition, SAMPLES, startServer, type TestServer } from '../test/harness.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_BODY_BYTES: '65536' });
});
afterAll(() => server.close());

const expectProbabilities = (actual: unknown, rows: number): void => {
  const values = actual as number[];
  expect(values).toHaveLength(rows * 2);
  values.forEach((value, i) => expect(value).toBeCloseTo(SAMPLES.probabilities[Math.floor(i / 2) % 4]![i % 2]!, 5));
};

describe('health and metadata', () => {
  test.each([
    ['/v2/health/live', { live: true }],
    ['/v2/health/ready', { ready: true }],
    ['/v2/models/fraud/ready', { name: 'fraud', ready: true }],
    ['/v2/models/fraud/versions/1/ready', { name: 'fraud', ready: true }],
  ])('GET %s', async (path, expected) => {
    const response = await server.request('GET', path);
    expect(response.status).toBe(200);
    expect(response.json()).toEqual(expected);
  });

  test('GET /v2 describes the server and its extensions', async () => {
    const response = await server.request('GET', '/v2');
    expect(response.json()).toEqual({
      name: 'modelops-serving',
      version: '0.1.0',
      extensions: ['binary_tensor_data', 'model_repository'],
    });
  });

  test.each(['/v2/models/fraud', '/v2/models/fraud/versions/1'])('GET %s gives the model metadata', async (path) => {
    const response = await server.request('GET', path);
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({
      name: 'fraud',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 30] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
    });
  });

  test.each([
    ['GET', '/v2/models/other', 404, /unknown model 'other'/],
    ['GET', '/v2/models/fraud/versions/2', 404, /no version '2'/],
    ['GET', '/v2/models/other/ready', 404, /unknown model/],
    ['GET', '/v2/nothing/here', 404, /no route/],
    ['POST', '/v2/health/live', 405, /use GET/],
    ['GET', '/v2/models/fraud/infer', 405, /use POST/],
  ])('%s %s → %d', async (method, path, status, message) => {
    const response = await server.request(method, path);
    expect(response.status).toBe(status);
    expect(response.json().error).toMatch(message);
  });

  test('POST /v2/repository/index lists the model', async () => {
    expect((await server.request('POST', '/v2/repository/index')).json()).toEqual([
      { name: 'fraud', version: '1', state: 'READY' },
    ] as never);
  });
});

describe('inference', () => {
  test.each(['/v2/models/fraud/infer', '/v2/models/fraud/versions/1/infer'])(
    "POST %s returns the model's probabilities",
    async (path) => {
      const response = await server.request('POST', path, inferBody(3, { id: 'req-42' }));
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('application/json');
      const body = response.json();
      expect(body).toMatchObject({ model_name: 'fraud', model_version: '1', id: 'req-42' });
      const [output] = body.outputs as Record<string, unknown>[];
      expect(output).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 2] });
      expectProbabilities(output!.data, 3);
    },
  );

  test('accepts nested data arrays and requested outputs', async () => {
    const body = JSON.stringify({
      inputs: [{ name: 'features', shape: [2, 30], datatype: 'FP32', data: SAMPLES.features.slice(0, 2) }],
      outputs: [{ name: 'probabilities' }],
    });
    const response = await server.request('POST', '/v2/models/fraud/infer', body);
    expect(response.status).toBe(200);
    expect(response.json().id).toBeUndefined();
    expectProbabilities((response.json().outputs as { data: number[] }[])[0]!.data, 2);
  });

  test('binary tensor data extension: binary input in, binary output back', async () => {
    const rows = 4;
    const features = Float32Array.from(SAMPLES.features.flat());
    const header = Buffer.from(
      JSON.stringify({
        id: 'bin',
        inputs: [
          {
            name: 'features',
            shape: [rows, 30],
            datatype: 'FP32',
            parameters: { binary_data_size: features.byteLength },
          },
        ],
        outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
      }),
    );
    const body = Buffer.concat([header, Buffer.from(features.buffer)]);
    const response = await server.request('POST', '/v2/models/fraud/infer', body, {
      'Inference-Header-Content-Length': header.length,
      'Content-Type': 'application/octet-stream',
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    const jsonLength = Number(response.headers['inference-header-content-length']);
    const json = JSON.parse(response.body.subarray(0, jsonLength).toString()) as {
      id: string;
      outputs: Record<string, unknown>[];
    };
    expect(json.id).toBe('bin');
    expect(json.outputs[0]).toEqual({
      name: 'probabilities',
      datatype: 'FP32',
      shape: [rows, 2],
      parameters: { binary_data_size: rows * 2 * 4 },
    });
    const raw = response.body.subarray(jsonLength);
    expect(raw.length).toBe(rows * 2 * 4);
    const probabilities = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    expectProbabilities(Array.from(probabilities), rows);
  });

  test('binary_data_output asks for every output as binary; binary_data: false overrides it', async () => {
    const allBinary = await server.request(
      'POST',
      '/v2/models/fraud/infer',
      inferBody(1, { parameters: { binary_data_output: true } }),
    );
    expect(Number(allBinary.headers['inference-header-content-length'])).toBeGreaterThan(0);
    const overridden = await server.request(
      'POST',
      '/v2/models/fraud/infer',
      inferBody(1, {
        parameters: { binary_data_output: true },
        outputs: [{ name: 'probabilities', parameters: { binary_data: false } }],
      }),
    );
    expect(overridden.headers['inference-header-content-length']).toBeUndefined();
    expectProbabilities((overridden.json().outputs as { data: number[] }[])[0]!.data, 1);
  });
});

// Every malformed request gets the right 4xx and a JSON error that says what is wrong.
const input = (fields: Record<string, unknown>): string =>
  JSON.stringify({
    inputs: [{ name: 'features', shape: [1, 30], datatype: 'FP32', data: SAMPLES.features[0], ...fields }],
  });
type Malformed = [string, string | Buffer, number, RegExp, Record<string, string>?];
const malformed: Malformed[] = [
  ['empty body', '', 400, /not valid JSON/],
  ['truncated JSON', '{"inputs": [', 400, /not valid JSON/],
  ['JSON array', '[]', 400, /must be a JSON object/],
  ['JSON null', 'null', 400, /must be a JSON object/],
  ['no inputs', '{}', 400, /'inputs' must be a non-empty array/],
  ['empty inputs', '{"inputs": []}', 400, /'inputs' must be a non-empty array/],
  ['inputs not an array', '{"inputs": {}}', 400, /'inputs' must be a non-empty array/],
  ['input not an object', '{"inputs": [1]}', 400, /inputs\[0\] must be an object/],
  ['numeric id', JSON.stringify({ id: 7, inputs: [] }), 400, /'id' must be a string/],
  ['no name', input({ name: undefined }), 400, /inputs\[0\]: 'name' must be a non-empty string/],
  ['unknown input', input({ name: 'feature' }), 400, /unknown input 'feature'; the model's inputs are 'features'/],
  ['unknown datatype', input({ datatype: 'FP99' }), 400, /input 'features': datatype 'FP99' is not a known datatype/],
  ['BYTES data not strings', input({ datatype: 'BYTES' }), 400, /data\[0\] is -0.6298, expected a string for BYTES/],
  [
    'BYTES for an FP32 input',
    input({ datatype: 'BYTES', data: SAMPLES.features[0]!.map(String) }),
    400,
    /input 'features' has datatype BYTES, the model expects FP32/,
  ],
  [
    'FP32 beyond the float range',
    input({ data: [1e39, ...SAMPLES.features[0]!.slice(1)] }),
    400,
    /input 'features': data\[0\] is 1e\+39, expected a number within the FP32 range/,
  ],
  ['wrong datatype', input({ datatype: 'FP64' }), 400, /input 'features' has datatype FP64, the model expects FP32/],
  ['datatype not a string', input({ datatype: 32 }), 400, /'datatype' must be a string/],
  ['shape missing', input({ shape: undefined }), 400, /'shape' must be an array of non-negative integers/],
  ['negative dimension', input({ shape: [-1, 30] }), 400, /'shape' must be an array of non-negative integers/],
  ['fractional dimension', input({ shape: [1.5, 30] }), 400, /'shape' must be an array/],
  [
    'wrong width',
    input({ shape: [1, 29], data: SAMPLES.features[0]!.slice(1) }),
    400,
    /shape \[1,29\], the model expects \[-1,30\]/,
  ],
  ['wrong rank', input({ shape: [30] }), 400, /shape \[30\], the model expects \[-1,30\]/],
  ['zero rows', input({ shape: [0, 30], data: [] }), 400, /input 'features' is empty/],
  [
    'too few values',
    input({ data: SAMPLES.features[0]!.slice(1) }),
    400,
    /'data' has 29 values, shape \[1,30\] needs 30/,
  ],
  ['too many values', input({ shape: [1, 30], data: [...SAMPLES.features[0]!, 1] }), 400, /'data' has 31 values/],
  [
    'string value',
    input({ data: ['x', ...SAMPLES.features[0]!.slice(1)] }),
    400,
    /data\[0\] is "x", expected a number within the FP32 range/,
  ],
  ['null value', input({ data: [...SAMPLES.features[0]!.slice(1), null] }), 400, /data\[29\] is null/],
  ['data not an array', input({ data: 'abc' }), 400, /'data' must be an array/],
  ['data missing', input({ data: undefined }), 400, /'data' is missing/],
  ['nested too deep', input({ data: [[[SAMPLES.features[0]]]] }), 400, /nested deeper than its shape's 2 dimensions/],
  [
    'duplicate input',
    JSON.stringify({ inputs: [JSON.parse(input({})).inputs[0], JSON.parse(input({})).inputs[0]] }),
    400,
    /given more than once/,
  ],
  [
    'unknown output',
    inferBody(1, { outputs: [{ name: 'logits' }] }),
    400,
    /unknown output 'logits'; the model's outputs are 'probabilities'/,
  ],
  [
    'output without name',
    inferBody(1, { outputs: [{}] }),
    400,
    /outputs\[0\] must be an object with a non-empty 'name'/,
  ],
  ['outputs not an array', inferBody(1, { outputs: 'probabilities' }), 400, /'outputs' must be an array/],
  [
    'duplicate output',
    inferBody(1, { outputs: [{ name: 'probabilities' }, { name: 'probabilities' }] }),
    400,
    /requested more than once/,
  ],
  [
    'binary_data not boolean',
    inferBody(1, { outputs: [{ name: 'probabilities', parameters: { binary_data: 1 } }] }),
    400,
    /'parameters.binary_data' must be a boolean/,
  ],
  [
    'binary_data_output not boolean',
    inferBody(1, { parameters: { binary_data_output: 'yes' } }),
    400,
    /binary_data_output' must be a boolean/,
  ],
  ['parameters not an object', inferBody(1, { parameters: [] }), 400, /'parameters' must be an object/],
  [
    'data and binary_data_size',
    input({ parameters: { binary_data_size: 120 } }),
    400,
    /both 'data' and 'parameters.binary_data_size'/,
  ],
  [
    'binary_data_size without bytes',
    input({ data: undefined, parameters: { binary_data_size: 120 } }),
    400,
    /exceeds the 0 bytes of binary data left/,
  ],
  [
    'binary_data_size wrong',
    input({ data: undefined, parameters: { binary_data_size: 100 } }),
    400,
    /binary_data_size is 100 bytes, shape \[1,30\] of FP32 needs 120/,
  ],
  [
    'header length beyond body',
    inferBody(1),
    400,
    /Inference-Header-Content-Length is 99999 but the body has only/,
    { 'Inference-Header-Content-Length': '99999' },
  ],
  [
    'header length not a number',
    inferBody(1),
    400,
    /must be a non-negative integer/,
    { 'Inference-Header-Content-Length': 'abc' },
  ],
  ...['12a', 'a12', '1234567890123456'].map((length): Malformed => [
    `header length ${length}`,
    inferBody(1),
    400,
    /^Inference-Header-Content-Length must be a non-negative integer$/,
    { 'Inference-Header-Content-Length': length },
  ]),
  [
    'stray binary bytes',
    Buffer.concat([Buffer.from(inferBody(1)), Buffer.alloc(8)]),
    400,
    /8 bytes of binary data that no input/,
    { 'Inference-Header-Content-Length': String(inferBody(1).length) },
  ],
  ['oversized body', inferBody(400), 413, /exceeds the 65536-byte limit/],
];

// Always five arguments: jest takes a test function with more parameters than the row as one wanting `done`.
test.each(
  malformed.map(([name, body, status, message, headers]) => [name, body, status, message, headers ?? {}] as const),
)('malformed request: %s', async (_name, body, status, message, headers) => {
  const response = await server.request('POST', '/v2/models/fraud/infer', body, headers);
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toBe('application/json');
  expect(response.json().error).toMatch(message);
});

test('an unknown model or version is a 404 whatever the body', async () => {
  expect((await server.request('POST', '/v2/models/other/infer', inferBody())).status).toBe(404);
  expect((await server.request('POST', '/v2/models/fraud/versions/9/infer', '{')).status).toBe(404);
});

describe('compressed bodies', () => {
  test.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['GZIP', gzipSync], // content codings are case-insensitive
    ['deflate', deflateSync],
    ['deflate', deflateRawSync], // some clients send HTTP's deflate without the zlib wrapper
    ['identity', (body: string) => Buffer.from(body)],
  ])('Content-Encoding: %s is decoded', async (encoding, compress) => {
    const response = await server.request('POST', '/v2/models/fraud/infer', compress(inferBody(4)), {
      'Content-Encoding': encoding,
    });
    expect(response.status).toBe(200);
    expectProbabilities((response.json().outputs as { data: number[] }[])[0]!.data, 4);
  });

  test.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ])('the decoded size has the same bound as the body: a small %s bomb is a 413', async (encoding, compress) => {
    const bomb = compress(Buffer.alloc(70_000, 32));
    expect(bomb.length).toBeLessThan(65536);
    const response = await server.request('POST', '/v2/models/fraud/infer', bomb, { 'Content-Encoding': encoding });
    expect(response.status).toBe(413);
    expect(response.json().error).toMatch(/decoded request body exceeds the 65536-byte limit/);
  });

  test('an unknown encoding is a 415, corrupt data a 400', async () => {
    const br = await server.request('POST', '/v2/models/fraud/infer', inferBody(), { 'Content-Encoding': 'br' });
    expect(br.status).toBe(415);
    expect(br.json().error).toMatch(/Content-Encoding 'br' is not supported; use gzip, deflate or identity/);
    const corrupt = await server.request('POST', '/v2/models/fraud/infer', inferBody(), { 'Content-Encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.json().error).toMatch(/request body is not valid gzip data/);
  });
});

test.each([
  ['with a Content-Length', {}, 'request body of 65537 bytes exceeds the 65536-byte limit'],
  ['chunked', { 'Transfer-Encoding': 'chunked' }, 'request body exceeds the 65536-byte limit'],
])('a body %s of exactly MAX_BODY_BYTES is served, one byte more is a 413', async (_framing, headers, error) => {
  const atLimit = inferBody(1).padEnd(65536, ' ');
  expect((await server.request('POST', '/v2/models/fraud/infer', atLimit, headers)).status).toBe(200);
  const over = await server.request('POST', '/v2/models/fraud/infer', `${atLimit} `, headers);
  expect(over.status).toBe(413);
  expect(over.json()).toEqual({ error });
  expect(over.headers.connection).toBe('close'); // the rest of that body is never read
});

test('the server exports the fixture reference it loaded: cumulative counts at the live buckets (contract C6)', async () => {
  const reference = JSON.parse(readFileSync(`${FIXTURES}/reference.json`, 'utf8')) as {
    sampleCount: number;
    features: { name: string; binEdges: number[]; counts: number[] }[];
    prediction: { score: { binEdges: number[]; counts: number[] } };
  };
  const samples = parseExposition((await server.request('GET', '/metrics')).body.toString());
  const series = (name: string, feature?: string) =>
    samples.filter((s) => s.name === name && s.labels.feature === feature).map((s) => [s.labels.le, s.value]);
  const cumulative = ({ binEdges, counts }: { binEdges: number[]; counts: number[] }) => {
    let sum = 0;
    return counts.map((count, i) => [i < counts.length - 1 ? String(binEdges[i + 1]) : '+Inf', (sum += count)]);
  };
  expect(reference.features).toHaveLength(30);
  for (const feature of reference.features) {
    const gauges = series('modelops_reference_feature_cumulative_count', feature.name);
    expect(gauges).toEqual(cumulative(feature));
    const live = series('modelops_feature_value_bucket', feature.name).map(([le]) => le);
    expect(gauges.map(([le]) => le)).toEqual(live);
  }
  expect(series('modelops_reference_prediction_score_cumulative_count')).toEqual(
    cumulative(reference.prediction.score),
  );
  expect(series('modelops_reference_sample_count')).toEqual([[undefined, reference.sampleCount]]);
});

test('a client that hangs up mid-body is counted as 499 and leaves the server serving', async () => {
  const arrived = once(server.app.front.server, 'request') as Promise<[IncomingMessage]>;
  const socket = connect(server.port, '127.0.0.1');
  socket.write('POST /v2/models/fraud/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"inputs":');
  const [req] = await arrived;
  const aborted = once(req, 'error');
  socket.destroy();
  await aborted; // the server's own handler saw the same error first, and counted the request
  const requests = parseExposition((await server.request('GET', '/metrics')).body.toString()).filter(
    (s) => s.name === 'modelops_inference_requests_total' && s.labels.code === '499',
  );
  expect(requests.map((s) => s.value)).toEqual([1]);
  expect((await server.request('POST', '/v2/models/fraud/infer', inferBody())).status).toBe(200);
});
