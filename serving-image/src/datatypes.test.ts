/** @jest-environment ./serving-image/test/ort-environment.mjs */
// BYTES and FP16 through real HTTP, JSON and binary, compared with what onnxruntime itself computes on the
// same inputs (the mixed-datatype fixture: string categories in, string labels and INT64 codes out; FP16 in and out).
import * as ort from 'onnxruntime-node';
import { FIXTURES, startServer, type TestServer } from '../test/harness.js';
import { fromFloat16Bits, toFloat16Bits } from './model/float16.js';

const MIXED = `${FIXTURES}/mixed.onnx`;
const CATEGORIES = ['card', 'crypto', 'bitcoin', 'café ☕', '', 'wire'];
const VALUES = [1.5, -2, 65504, 0.1, 3.14159, -0.0001, 1000, 2.5e-6, -7.25, 42, 0.333, -65504];
const ROWS = CATEGORIES.length;

let server: TestServer;
let expected: { label: string[]; code: bigint[]; scaled: Uint16Array };
beforeAll(async () => {
  server = await startServer({ MODEL_NAME: 'mixed', MODEL_URI: MIXED, REFERENCE_URI: `${FIXTURES}/no-reference.json` });
  const session = await ort.InferenceSession.create(MIXED);
  const results = await session.run({
    category: new ort.Tensor('string', CATEGORIES, [ROWS, 1]),
    values: new ort.Tensor('float16', Uint16Array.from(VALUES, toFloat16Bits), [ROWS, 2]),
  });
  expected = {
    label: results.label!.data as string[],
    code: Array.from(results.code!.data as BigInt64Array),
    scaled: results.scaled!.data as Uint16Array,
  };
  await session.release();
});
afterAll(() => server.close());

const infer = (body: string | Buffer, headers: Record<string, string | number> = {}) =>
  server.request('POST', '/v2/models/mixed/infer', body, headers);

test('metadata reports BYTES and FP16 tensors', async () => {
  const metadata = (await server.request('GET', '/v2/models/mixed')).json();
  expect(metadata).toMatchObject({
    inputs: [
      { name: 'category', datatype: 'BYTES', shape: [-1, 1] },
      { name: 'values', datatype: 'FP16', shape: [-1, 2] },
    ],
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1, 1] },
      { name: 'code', datatype: 'INT64', shape: [-1, 1] },
      { name: 'scaled', datatype: 'FP16', shape: [-1, 2] },
    ],
  });
});

test('JSON in, JSON out: what onnxruntime computes', async () => {
  expect(expected.label).toEqual(['CARD', 'CRYPTO', 'OTHER', 'OTHER', 'OTHER', 'WIRE']); // the fixture works
  const response = await infer(
    JSON.stringify({
      inputs: [
        { name: 'category', shape: [ROWS, 1], datatype: 'BYTES', data: CATEGORIES },
        { name: 'values', shape: [ROWS, 2], datatype: 'FP16', data: VALUES },
      ],
    }),
  );
  expect(response.status).toBe(200);
  const outputs = response.json().outputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[];
  expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
    ['label', 'BYTES', [ROWS, 1]],
    ['code', 'INT64', [ROWS, 1]],
    ['scaled', 'FP16', [ROWS, 2]],
  ]);
  expect(outputs[0]!.data).toEqual(expected.label);
  expect(outputs[1]!.data).toEqual(expected.code.map(Number));
  expect(outputs[2]!.data).toEqual(Array.from(expected.scaled, fromFloat16Bits));
});

test('binary in, binary out: byte for byte what onnxruntime computes', async () => {
  const strings = lengthPrefixed(CATEGORIES);
  const halves = Buffer.from(Uint16Array.from(VALUES, toFloat16Bits).buffer);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: 'category', shape: [ROWS, 1], datatype: 'BYTES', parameters: { binary_data_size: strings.length } },
        { name: 'values', shape: [ROWS, 2], datatype: 'FP16', parameters: { binary_data_size: halves.length } },
      ],
      outputs: [{ name: 'label' }, { name: 'scaled' }],
      parameters: { binary_data_output: true },
    }),
  );
  const response = await infer(Buffer.concat([header, strings, halves]), {
    'Inference-Header-Content-Length': header.length,
  });
  expect(response.status).toBe(200);
  const jsonLength = Number(response.headers['inference-header-content-length']);
  const json = JSON.parse(response.body.subarray(0, jsonLength).toString()) as {
    outputs: { name: string; parameters: { binary_data_size: number } }[];
  };
  const label = lengthPrefixed(expected.label);
  const scaled = Buffer.from(expected.scaled.buffer, expected.scaled.byteOffset, expected.scaled.byteLength);
  expect(json.outputs.map((o) => [o.name, o.parameters.binary_data_size])).toEqual([
    ['label', label.length],
    ['scaled', scaled.length],
  ]);
  expect(response.body.subarray(jsonLength)).toEqual(Buffer.concat([label, scaled]));
});

test('concurrent requests batch strings and halves together and each gets its own rows back', async () => {
  const responses = await Promise.all(
    CATEGORIES.map((category, row) =>
      infer(
        JSON.stringify({
          inputs: [
            { name: 'category', shape: [1, 1], datatype: 'BYTES', data: [category] },
            { name: 'values', shape: [1, 2], datatype: 'FP16', data: VALUES.slice(row * 2, row * 2 + 2) },
          ],
        }),
      ),
    ),
  );
  responses.forEach((response, row) => {
    const [label, , scaled] = response.json().outputs as { data: unknown[] }[];
    expect(label!.data).toEqual([expected.label[row]]);
    expect(scaled!.data).toEqual(Array.from(expected.scaled.subarray(row * 2, row * 2 + 2), fromFloat16Bits));
  });
});

test.each([
  [
    { name: 'values', shape: [1, 2], datatype: 'FP16', data: [1, 70000] },
    /input 'values': data\[1\] is 70000, expected a number within the FP16 range/,
  ],
  [
    { name: 'values', shape: [1, 2], datatype: 'FP32', data: [1, 2] },
    /input 'values' has datatype FP32, the model expects FP16/,
  ],
])('refused: %#', async (values, message) => {
  const response = await infer(
    JSON.stringify({ inputs: [{ name: 'category', shape: [1, 1], datatype: 'BYTES', data: ['card'] }, values] }),
  );
  expect(response.status).toBe(400);
  expect(response.json().error).toMatch(message);
});

function lengthPrefixed(strings: string[]): Buffer {
  return Buffer.concat(
    strings.flatMap((text) => {
      const bytes = Buffer.from(text);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
}
