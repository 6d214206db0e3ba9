import { decodeInferRequest, decodeLoadRequest } from './decode.js';
import { dataAsJson, encodeInferResponse } from './encode.js';
import { InferenceError } from '../model/errors.js';
import type { Tensor } from '../model/tensor.js';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
/** The one input's data, decoded from a JSON request. */
const decodeData = (datatype: string, data: unknown[]) =>
  decodeInferRequest(json({ inputs: [{ name: 'x', shape: [data.length], datatype, data }] }), undefined).request
    .inputs[0]!.data;
/** BYTES elements as the binary tensor data extension lays them out. */
const bytesElements = (strings: string[]): Buffer =>
  Buffer.concat(
    strings.flatMap((text) => {
      const bytes = Buffer.from(text);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );

describe('decodeInferRequest', () => {
  test('JSON tensors of each numeric datatype', () => {
    const { request } = decodeInferRequest(
      json({
        id: 'r1',
        inputs: [
          { name: 'f', shape: [2], datatype: 'FP32', data: [0.5, -1] },
          { name: 'i', shape: [1, 2], datatype: 'INT64', data: [[9007199254740991, -3]] },
          { name: 'b', shape: [2], datatype: 'BOOL', data: [true, false] },
          { name: 'u', shape: [1], datatype: 'UINT8', data: [255] },
          { name: 'd', shape: [2], datatype: 'FP64', data: [1e300, -0.5] },
        ],
        outputs: [{ name: 'y' }],
      }),
      undefined,
    );
    expect(request.id).toBe('r1');
    expect(request.outputs).toEqual(['y']);
    const [f, i, b, u, d] = request.inputs;
    expect(f!.data).toEqual(Float32Array.from([0.5, -1]));
    expect(i!.data).toEqual(BigInt64Array.from([9007199254740991n, -3n]));
    expect(b!.data).toEqual(Uint8Array.from([1, 0]));
    expect(u!.data).toEqual(Uint8Array.from([255]));
    expect(d!.data).toEqual(Float64Array.from([1e300, -0.5]));
  });

  test.each([
    ['UINT8', 0, 255, 'an integer from 0 to 255'],
    ['INT8', -128, 127, 'an integer from -128 to 127'],
    ['UINT16', 0, 65535, 'an integer from 0 to 65535'],
    ['INT16', -32768, 32767, 'an integer from -32768 to 32767'],
    ['UINT32', 0, 2 ** 32 - 1, 'an integer from 0 to 4294967295'],
    ['INT32', -(2 ** 31), 2 ** 31 - 1, 'a 32-bit integer'],
    ['UINT64', 0, Number.MAX_SAFE_INTEGER, 'a non-negative integer'],
    ['INT64', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'an integer'],
  ])('%s takes integers from %p to %p, and nothing beyond', (datatype, min, max, expected) => {
    const values = Array.from(decodeData(datatype, [min, max]) as ArrayLike<number | bigint>);
    expect(values).toEqual(datatype.endsWith('64') ? [BigInt(min), BigInt(max)] : [min, max]);
    for (const beyond of [min - 1, max + 1]) {
      expect(() => decodeData(datatype, [beyond])).toThrow(
        `input 'x': data[0] is ${beyond}, expected ${expected} for ${datatype}`,
      );
    }
  });

  test.each([
    ['INT8', 128, /expected an integer from -128 to 127/],
    ['INT32', 1.5, /expected a 32-bit integer/],
    ['BOOL', 1, /expected true or false/],
    ['UINT16', -1, /expected an integer from 0 to 65535/],
    ['FP32', 1e39, /input 'x': data\[0\] is 1e\+39, expected a number within the FP32 range \(±3.4028235e\+38\)/],
    ['FP32', -3.5e38, /expected a number within the FP32 range/],
    ['FP32', '1', /data\[0\] is "1", expected a number within the FP32 range/],
    ['FP16', 65520, /expected a number within the FP16 range \(±65504\)/],
    ['FP16', -1e6, /expected a number within the FP16 range/],
    ['FP16', '1', /data\[0\] is "1", expected a number within the FP16 range/],
    ['BYTES', 7, /data\[0\] is 7, expected a string for BYTES/],
    ['FP64', true, /data\[0\] is true, expected a number for FP64/],
    ['FP32', 'x'.repeat(50), new RegExp(`data\\[0\\] is "${'x'.repeat(39)}, expected`)],
    ['FP32', [1], /input 'x': 'data' is nested deeper than its shape's 1 dimensions/],
    ['FP8', 1, /input 'x': datatype 'FP8' is not a known datatype/],
  ])('%s rejects %p', (datatype, value, message) => {
    expect(() =>
      decodeInferRequest(json({ inputs: [{ name: 'x', shape: [1], datatype, data: [value] }] }), undefined),
    ).toThrow(message);
  });

  const x = { name: 'x', shape: [1], datatype: 'FP32', data: [1] };
  test.each([
    ['an empty input name', { inputs: [{ ...x, name: '' }] }, "inputs[0]: 'name' must be a non-empty string"],
    [
      'input parameters not an object',
      { inputs: [{ ...x, parameters: [] }] },
      "input 'x': 'parameters' must be an object",
    ],
    ['a null output', { inputs: [x], outputs: [null] }, "outputs[0] must be an object with a non-empty 'name'"],
    [
      'an output with an empty name',
      { inputs: [x], outputs: [{ name: '' }] },
      "outputs[0] must be an object with a non-empty 'name'",
    ],
    [
      'output parameters not an object',
      { inputs: [x], outputs: [{ name: 'y', parameters: 'binary' }] },
      "output 'y': 'parameters' must be an object",
    ],
  ])('a request with %s is refused with what is at fault', (_case, body, message) => {
    expect(() => decodeInferRequest(json(body), undefined)).toThrow(new InferenceError('invalid-argument', message));
  });

  test('an Inference-Header-Content-Length of the whole body: JSON and no binary data', () => {
    const body = json({ inputs: [x] });
    expect(decodeInferRequest(body, body.length).request.inputs[0]!.data).toEqual(Float32Array.from([1]));
  });

  test('FP32 takes every number that has a float form, the largest included', () => {
    const { request } = decodeInferRequest(
      json({ inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [3.4028234663852886e38, -1e-46, 1e38] }] }),
      undefined,
    );
    expect(Array.from(request.inputs[0]!.data as Float32Array)).toEqual([
      Math.fround(3.4028234663852886e38),
      -0,
      Math.fround(1e38),
    ]);
  });

  test('FP16 as bit patterns, BYTES as strings, from JSON', () => {
    const { request } = decodeInferRequest(
      json({
        inputs: [
          { name: 'h', shape: [3], datatype: 'FP16', data: [1, -2.5, 65504] },
          { name: 's', shape: [2, 1], datatype: 'BYTES', data: [['café ☕'], ['']] },
        ],
      }),
      undefined,
    );
    expect(request.inputs[0]!.data).toEqual(Uint16Array.from([0x3c00, 0xc100, 0x7bff]));
    expect(request.inputs[1]!.data).toEqual(['café ☕', '']);
  });

  test('binary BYTES: 4-byte little-endian lengths, then UTF-8', () => {
    const strings = bytesElements(['café', '', 'x', '']);
    const header = json({
      inputs: [
        { name: 's', shape: [4], datatype: 'BYTES', parameters: { binary_data_size: strings.length } },
        { name: 'h', shape: [1], datatype: 'FP16', parameters: { binary_data_size: 2 } },
      ],
    });
    const body = Buffer.concat([header, strings, Buffer.from([0x00, 0x3c])]);
    const { request } = decodeInferRequest(body, header.length);
    expect(request.inputs[0]!.data).toEqual(['café', '', 'x', '']);
    expect(request.inputs[1]!.data).toEqual(Uint16Array.from([0x3c00]));
  });

  test.each([
    ['fewer elements than the shape', bytesElements(['a']), 2, /does not hold exactly the 2 BYTES elements/],
    ['more elements than the shape', bytesElements(['a', 'b', 'c']), 2, /does not hold exactly the 2 BYTES elements/],
    ['a length past the end', Buffer.from([9, 0, 0, 0, 0x61]), 1, /BYTES element 0 runs past its binary_data_size/],
    ['a cut length', Buffer.from([1, 0]), 1, /BYTES element 0 is cut short/],
    [
      'bytes after the last element',
      Buffer.concat([bytesElements(['a']), Buffer.from([9, 0, 0, 0])]),
      1,
      /binary_data_size 9 does not hold exactly the 1 BYTES elements its shape needs/,
    ],
    ['invalid UTF-8', Buffer.from([2, 0, 0, 0, 0xc3, 0x28]), 1, /BYTES element 0 is not valid UTF-8/],
  ])('binary BYTES with %s is refused', (_case, bytes, count, message) => {
    const header = json({
      inputs: [{ name: 's', shape: [count], datatype: 'BYTES', parameters: { binary_data_size: bytes.length } }],
    });
    expect(() => decodeInferRequest(Buffer.concat([header, bytes]), header.length)).toThrow(message);
  });

  test('binary inputs at any offset, in input order', () => {
    const a = Float32Array.from([1, 2, 3]);
    const b = Int32Array.from([7]);
    const c = Uint8Array.from([1, 0, 1]);
    const header = json({
      inputs: [
        { name: 'a', shape: [3], datatype: 'FP32', parameters: { binary_data_size: 12 } },
        { name: 'b', shape: [1], datatype: 'INT32', parameters: { binary_data_size: 4 } },
        { name: 'c', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
        { name: 'e', shape: [0], datatype: 'FP32', parameters: { binary_data_size: 0 } },
      ],
      parameters: { binary_data_output: true },
      outputs: [{ name: 'y', parameters: { binary_data: false } }, { name: 'z' }],
    });
    // An odd-length header puts the floats at an unaligned offset.
    const padded = Buffer.concat([header, Buffer.from(' ')]);
    const body = Buffer.concat([padded, Buffer.from(a.buffer), Buffer.from(b.buffer), c]);
    const { request, binaryOutputs } = decodeInferRequest(body, padded.length);
    expect(request.inputs[0]!.data).toEqual(a);
    expect(request.inputs[1]!.data).toEqual(b);
    expect(request.inputs[2]!.data).toEqual(c);
    expect(request.inputs[3]!.data).toEqual(new Float32Array(0));
    expect(binaryOutputs).toEqual({ all: true, byOutput: new Map([['y', false]]) });
  });

  test.each([
    [
      'BOOL bytes other than 0 and 1',
      'BOOL',
      2,
      Buffer.from([0, 2]),
      /input 'x': BOOL binary data must be bytes 0 or 1/,
    ],
    [
      'a negative binary_data_size',
      'UINT8',
      -1,
      Buffer.alloc(0),
      /input 'x': 'parameters.binary_data_size' must be a non-negative integer/,
    ],
    [
      'a fractional binary_data_size',
      'BYTES',
      0.5,
      Buffer.alloc(0),
      /'parameters.binary_data_size' must be a non-negative integer/,
    ],
    [
      'a binary_data_size in a string',
      'UINT8',
      '2',
      Buffer.alloc(2),
      /'parameters.binary_data_size' must be a non-negative integer/,
    ],
  ])('a binary input with %s is refused', (_case, datatype, size, bytes, message) => {
    const header = json({ inputs: [{ name: 'x', shape: [2], datatype, parameters: { binary_data_size: size } }] });
    expect(() => decodeInferRequest(Buffer.concat([header, bytes]), header.length)).toThrow(message);
  });

  test('a binary input is refused when the bytes an earlier input left are too few', () => {
    const header = json({
      inputs: [
        { name: 'a', shape: [1], datatype: 'FP32', parameters: { binary_data_size: 4 } },
        { name: 'b', shape: [1], datatype: 'INT32', parameters: { binary_data_size: 4 } },
      ],
    });
    expect(() => decodeInferRequest(Buffer.concat([header, Buffer.alloc(6)]), header.length)).toThrow(
      "input 'b': binary_data_size 4 exceeds the 2 bytes of binary data left in the body",
    );
  });

  test('never allocates from a shape the body does not back', () => {
    const huge = json({
      inputs: [{ name: 'x', shape: [2 ** 40, 2 ** 12], datatype: 'FP64', parameters: { binary_data_size: 8 } }],
    });
    expect(() => decodeInferRequest(huge, huge.length)).toThrow(/binary_data_size is 8 bytes/);
    expect(() =>
      decodeInferRequest(json({ inputs: [{ name: 'x', shape: [2 ** 40], datatype: 'FP32', data: [1] }] }), undefined),
    ).toThrow(/'data' has 1 values, shape \[1099511627776\] needs 1099511627776/);
  });
});

test('decodeLoadRequest', () => {
  expect(decodeLoadRequest(Buffer.alloc(0))).toEqual({});
  expect(decodeLoadRequest(json({}))).toEqual({});
  expect(decodeLoadRequest(json({ parameters: { uri: 's3://b/m.onnx', reference_uri: 's3://b/r.json' } }))).toEqual({
    modelUri: 's3://b/m.onnx',
    referenceUri: 's3://b/r.json',
  });
  expect(decodeLoadRequest(json({ parameters: { version: '2' } }))).toEqual({ version: '2' });
  expect(() => decodeLoadRequest(json({ parameters: { uri: '' } }))).toThrow(
    /'parameters.uri' must be a non-empty string/,
  );
  expect(() => decodeLoadRequest(json({ parameters: { reference_uri: 5 } }))).toThrow(
    "'parameters.reference_uri' must be a non-empty string",
  );
  expect(() => decodeLoadRequest(json({ parameters: [] }))).toThrow("'parameters' must be an object");
  expect(() => decodeLoadRequest(Buffer.from('{'))).toThrow(/^request body is not valid JSON: /);
});

describe('encodeInferResponse', () => {
  const probabilities: Tensor = { name: 'p', datatype: 'FP32', shape: [1, 2], data: Float32Array.from([0.25, 0.75]) };
  const response = { modelName: 'm', modelVersion: '1', id: 'x"y', outputs: [probabilities] };

  test('JSON', () => {
    const { body, jsonLength } = encodeInferResponse(response, { all: false, byOutput: new Map() });
    expect(jsonLength).toBeUndefined();
    expect(JSON.parse(body.toString())).toEqual({
      model_name: 'm',
      model_version: '1',
      id: 'x"y',
      outputs: [{ name: 'p', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] }],
    });
  });

  test('each response names its own model and version', () => {
    const none = { all: false, byOutput: new Map<string, boolean>() };
    const head = (modelName: string, modelVersion: string) =>
      JSON.parse(encodeInferResponse({ ...response, modelName, modelVersion }, none).body.toString()) as object;
    expect(head('m', '1')).toMatchObject({ model_name: 'm', model_version: '1' });
    expect(head('other', '1')).toMatchObject({ model_name: 'other', model_version: '1' });
    expect(head('other', '2')).toMatchObject({ model_name: 'other', model_version: '2' });
  });

  test('binary: JSON header then the raw bytes of a subarray view', () => {
    const view = Float32Array.from([9, 0.25, 0.75]).subarray(1);
    const { body, jsonLength } = encodeInferResponse(
      { ...response, outputs: [{ ...probabilities, data: view }] },
      { all: true, byOutput: new Map() },
    );
    const header = JSON.parse((body as Buffer).subarray(0, jsonLength).toString()) as { outputs: unknown[] };
    expect(header.outputs).toEqual([
      { name: 'p', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } },
    ]);
    expect((body as Buffer).subarray(jsonLength)).toEqual(Buffer.from(Float32Array.from([0.25, 0.75]).buffer));
  });

  test('binary BYTES and FP16 outputs', () => {
    const { body, jsonLength } = encodeInferResponse(
      {
        ...response,
        outputs: [
          { name: 's', datatype: 'BYTES', shape: [2], data: ['café', ''] },
          { name: 'h', datatype: 'FP16', shape: [1], data: Uint16Array.from([0x3c00]) },
        ],
      },
      { all: true, byOutput: new Map() },
    );
    const header = JSON.parse((body as Buffer).subarray(0, jsonLength).toString()) as {
      outputs: { parameters: { binary_data_size: number } }[];
    };
    expect(header.outputs.map((o) => o.parameters.binary_data_size)).toEqual([4 + 5 + 4, 2]);
    expect((body as Buffer).subarray(jsonLength)).toEqual(
      Buffer.concat([bytesElements(['café', '']), Buffer.from([0x00, 0x3c])]),
    );
  });

  test.each([
    [{ name: 't', datatype: 'FP32', shape: [3], data: Float32Array.from([NaN, Infinity, -0.5]) }, '[null,null,-0.5]'],
    [{ name: 't', datatype: 'FP16', shape: [3], data: Uint16Array.from([0x3c00, 0xc100, 0x7c00]) }, '[1,-2.5,null]'],
    [{ name: 't', datatype: 'BYTES', shape: [2], data: ['a"b', 'é'] }, '["a\\"b","é"]'],
    [{ name: 't', datatype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) }, '[true,false]'],
    [
      { name: 't', datatype: 'INT64', shape: [2], data: BigInt64Array.from([2n ** 60n, -1n]) },
      '[1152921504606846976,-1]',
    ],
    [
      { name: 't', datatype: 'UINT64', shape: [2], data: BigUint64Array.from([2n ** 64n - 1n, 0n]) },
      '[18446744073709551615,0]',
    ],
  ] as [Tensor, string][])('dataAsJson %#', (tensor, expected) => {
    expect(dataAsJson(tensor)).toBe(expected);
  });
});
