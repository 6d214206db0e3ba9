// Decodes an Open Inference Protocol (KServe V2) infer request body, JSON or JSON plus the binary tensor data
// extension, into the core's tensors. Pure: every malformed body becomes an invalid-argument error whose
// message names the field or tensor at fault, and nothing is allocated from a size the body cannot back.
import { invalidArgument } from '../model/errors.js';
import type { InferenceRequest, SourceChange } from '../model/core.js';
import { FLOAT16_MAX, toFloat16Bits } from '../model/float16.js';
import {
  createTypedData,
  elementCount,
  FIXED_SIZE_DATATYPES,
  isDatatype,
  type Datatype,
  type FixedSizeDatatype,
  type Tensor,
  type TensorData,
} from '../model/tensor.js';

/** Which outputs go back as binary data: an output's own `binary_data` wins over the request's `binary_data_output`. */
export interface BinaryOutputs {
  all: boolean;
  byOutput: Map<string, boolean>;
}

export interface DecodedInferRequest {
  request: InferenceRequest;
  binaryOutputs: BinaryOutputs;
}

type JsonObject = Record<string, unknown>;

/** `jsonLength`: the Inference-Header-Content-Length header, when the body carries binary tensor data. */
export function decodeInferRequest(body: Buffer, jsonLength: number | undefined): DecodedInferRequest {
  if (jsonLength !== undefined && jsonLength > body.length) {
    throw invalidArgument(
      `Inference-Header-Content-Length is ${jsonLength} but the body has only ${body.length} bytes`,
    );
  }
  const json = parseJsonObject(jsonLength === undefined ? body : body.subarray(0, jsonLength));
  const binary = new BinarySection(jsonLength === undefined ? body.subarray(body.length) : body.subarray(jsonLength));
  const id = json.id;
  if (id !== undefined && typeof id !== 'string') throw invalidArgument("'id' must be a string");
  const parameters = optionalObject(json.parameters, "'parameters'");
  const inputs = json.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw invalidArgument("'inputs' must be a non-empty array of tensors");
  const tensors = inputs.map((input, i) => decodeInput(input, i, binary));
  binary.checkFullyUsed();
  const { names, byOutput } = decodeRequestedOutputs(json.outputs);
  const all = parameters?.binary_data_output;
  if (all !== undefined && typeof all !== 'boolean')
    throw invalidArgument("'parameters.binary_data_output' must be a boolean");
  return {
    request: { id, inputs: tensors, outputs: names },
    binaryOutputs: { all: all === true, byOutput },
  };
}

function parseJsonObject(bytes: Buffer): JsonObject {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw invalidArgument(`request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(json)) throw invalidArgument('request body must be a JSON object');
  return json;
}

function decodeInput(input: unknown, index: number, binary: BinarySection): Tensor {
  if (!isObject(input)) throw invalidArgument(`inputs[${index}] must be an object`);
  const { name, datatype, shape } = input;
  if (typeof name !== 'string' || name === '')
    throw invalidArgument(`inputs[${index}]: 'name' must be a non-empty string`);
  if (typeof datatype !== 'string') throw invalidArgument(`input '${name}': 'datatype' must be a string`);
  if (!isDatatype(datatype)) throw invalidArgument(`input '${name}': datatype '${datatype}' is not a known datatype`);
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && (dim as number) >= 0)) {
    throw invalidArgument(`input '${name}': 'shape' must be an array of non-negative integers`);
  }
  const dims = shape as number[];
  const count = elementCount(dims);
  const parameters = optionalObject(input.parameters, `input '${name}': 'parameters'`);
  const binarySize = parameters?.binary_data_size;
  let data: TensorData;
  if (binarySize !== undefined) {
    if (input.data !== undefined)
      throw invalidArgument(`input '${name}' has both 'data' and 'parameters.binary_data_size'`);
    data = binary.take(name, binarySize, datatype, dims, count);
  } else {
    if (input.data === undefined)
      throw invalidArgument(`input '${name}': 'data' is missing (or give 'parameters.binary_data_size')`);
    data = decodeJsonData(name, input.data, datatype, dims, count);
  }
  return { name, datatype, shape: dims, data };
}

interface ElementRule {
  accepts: (value: unknown) => boolean;
  expected: string;
}

const integerIn = (min: number, max: number, expected: string): ElementRule => ({
  accepts: (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
  expected,
});

const FP32_EXPECTED = `a number within the FP32 range (±${(3.4028234663852886e38).toPrecision(8)})`;
// FP32, the common case, has its own one-pass decoder (decodeFloat32).
const ELEMENT_RULES: Record<Exclude<Datatype, 'FP32'>, ElementRule> = {
  BOOL: { accepts: (v) => typeof v === 'boolean', expected: 'true or false' },
  UINT8: integerIn(0, 255, 'an integer from 0 to 255'),
  INT8: integerIn(-128, 127, 'an integer from -128 to 127'),
  UINT16: integerIn(0, 65535, 'an integer from 0 to 65535'),
  INT16: integerIn(-32768, 32767, 'an integer from -32768 to 32767'),
  UINT32: integerIn(0, 2 ** 32 - 1, 'an integer from 0 to 4294967295'),
  INT32: integerIn(-(2 ** 31), 2 ** 31 - 1, 'a 32-bit integer'),
  // JSON numbers beyond 2^53 have already lost precision; clients send such values as binary data.
  UINT64: integerIn(0, Number.MAX_SAFE_INTEGER, 'a non-negative integer'),
  INT64: integerIn(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'an integer'),
  FP16: {
    accepts: (v) => typeof v === 'number' && Math.abs(v) < 65520,
    expected: `a number within the FP16 range (±${FLOAT16_MAX})`,
  },
  FP64: { accepts: (v) => typeof v === 'number', expected: 'a number' },
  BYTES: { accepts: (v) => typeof v === 'string', expected: 'a string' },
};

function decodeJsonData(name: string, data: unknown, datatype: Datatype, shape: number[], count: number): TensorData {
  if (!Array.isArray(data)) throw invalidArgument(`input '${name}': 'data' must be an array`);
  const flat = Array.isArray(data[0]) ? flatten(name, data, shape.length) : data;
  if (flat.length !== count) {
    throw invalidArgument(`input '${name}': 'data' has ${flat.length} values, shape [${shape}] needs ${count}`);
  }
  if (datatype === 'FP32') return decodeFloat32(name, flat, count);
  const rule = ELEMENT_RULES[datatype];
  for (let i = 0; i < count; i++) if (!rule.accepts(flat[i])) throw elementError(name, flat, i, datatype);
  if (datatype === 'BYTES') return flat.slice(0, count) as string[];
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const tensor = createTypedData(datatype, count) as BigInt64Array;
    for (let i = 0; i < count; i++) tensor[i] = BigInt(flat[i] as number);
    return tensor;
  }
  if (datatype === 'FP16') return Uint16Array.from(flat as number[], toFloat16Bits);
  const tensor = createTypedData(datatype, count) as Float64Array;
  for (let i = 0; i < count; i++) tensor[i] = Number(flat[i]); // true/false become 1/0 for BOOL
  return tensor;
}

/** The common case in one pass: check and store each element (a number beyond the FP32 range is stored as infinity). */
function decodeFloat32(name: string, flat: unknown[], count: number): Float32Array {
  const tensor = createTypedData('FP32', count) as Float32Array;
  for (let i = 0; i < count; i++) {
    const value = flat[i];
    if (typeof value !== 'number') throw elementError(name, flat, i, 'FP32');
    tensor[i] = value;
    if (tensor[i] === Infinity || tensor[i] === -Infinity) throw elementError(name, flat, i, 'FP32');
  }
  return tensor;
}

function elementError(name: string, flat: unknown[], i: number, datatype: Datatype): Error {
  const value = JSON.stringify(flat[i])?.slice(0, 40);
  const expected = datatype === 'FP32' ? FP32_EXPECTED : ELEMENT_RULES[datatype].expected;
  return invalidArgument(`input '${name}': data[${i}] is ${value}, expected ${expected} for ${datatype}`);
}

/** Row-major flattening of nested `data` arrays, which some clients send; nesting deeper than the shape is an error. */
function flatten(name: string, data: unknown[], depth: number): unknown[] {
  const flat: unknown[] = [];
  const visit = (value: unknown, level: number): void => {
    if (!Array.isArray(value)) return void flat.push(value);
    if (level >= depth)
      throw invalidArgument(`input '${name}': 'data' is nested deeper than its shape's ${depth} dimensions`);
    for (const item of value) visit(item, level + 1);
  };
  visit(data, 0);
  return flat;
}

/** `bytes` has the size the shape needs (checked). */
function takeFixedSize(name: string, bytes: Buffer, datatype: FixedSizeDatatype, count: number): TensorData {
  // Copy into a fresh (aligned) typed array: the body's bytes may sit at any offset. Little-endian, like the clients.
  const tensor = createTypedData(datatype, count);
  new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength).set(bytes);
  if (datatype === 'BOOL' && (tensor as Uint8Array).some((b) => b > 1)) {
    throw invalidArgument(`input '${name}': BOOL binary data must be bytes 0 or 1`);
  }
  return tensor;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** BYTES in the binary extension: each element a 4-byte little-endian length, then that many bytes (UTF-8 here). */
function takeStrings(name: string, bytes: Buffer, count: number): string[] {
  const strings: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (strings.length === count) break;
    if (offset + 4 > bytes.length)
      throw invalidArgument(`input '${name}': BYTES element ${strings.length} is cut short`);
    const length = bytes.readUInt32LE(offset);
    offset += 4;
    if (offset + length > bytes.length) {
      throw invalidArgument(`input '${name}': BYTES element ${strings.length} runs past its binary_data_size`);
    }
    try {
      strings.push(UTF8.decode(bytes.subarray(offset, offset + length)));
    } catch {
      throw invalidArgument(`input '${name}': BYTES element ${strings.length} is not valid UTF-8`);
    }
    offset += length;
  }
  if (strings.length !== count || offset !== bytes.length) {
    throw invalidArgument(
      `input '${name}': binary_data_size ${bytes.length} does not hold exactly the ${count} BYTES elements its shape needs`,
    );
  }
  return strings;
}

/** The bytes after the JSON header, handed out in input order as the binary tensor data extension specifies. */
class BinarySection {
  private offset = 0;

  constructor(private readonly bytes: Buffer) {}

  take(name: string, size: unknown, datatype: Datatype, shape: number[], count: number): TensorData {
    if (!Number.isSafeInteger(size) || (size as number) < 0) {
      throw invalidArgument(`input '${name}': 'parameters.binary_data_size' must be a non-negative integer`);
    }
    if (datatype !== 'BYTES' && size !== count * FIXED_SIZE_DATATYPES[datatype].byteSize) {
      throw invalidArgument(
        `input '${name}': binary_data_size is ${size} bytes, shape [${shape}] of ${datatype} needs ${count * FIXED_SIZE_DATATYPES[datatype].byteSize}`,
      );
    }
    const left = this.bytes.length - this.offset;
    if ((size as number) > left) {
      throw invalidArgument(
        `input '${name}': binary_data_size ${size} exceeds the ${left} bytes of binary data left in the body`,
      );
    }
    const bytes = this.bytes.subarray(this.offset, this.offset + (size as number));
    this.offset += size as number;
    return datatype === 'BYTES' ? takeStrings(name, bytes, count) : takeFixedSize(name, bytes, datatype, count);
  }

  checkFullyUsed(): void {
    const extra = this.bytes.length - this.offset;
    if (extra > 0)
      throw invalidArgument(`the body has ${extra} bytes of binary data that no input's binary_data_size accounts for`);
  }
}

function decodeRequestedOutputs(outputs: unknown): { names: string[] | undefined; byOutput: Map<string, boolean> } {
  const byOutput = new Map<string, boolean>();
  if (outputs === undefined) return { names: undefined, byOutput };
  if (!Array.isArray(outputs)) throw invalidArgument("'outputs' must be an array");
  const names = outputs.map((output, i) => {
    if (!isObject(output) || typeof output.name !== 'string' || output.name === '') {
      throw invalidArgument(`outputs[${i}] must be an object with a non-empty 'name'`);
    }
    const parameters = optionalObject(output.parameters, `output '${output.name}': 'parameters'`);
    const binary = parameters?.binary_data;
    if (binary !== undefined && typeof binary !== 'boolean')
      throw invalidArgument(`output '${output.name}': 'parameters.binary_data' must be a boolean`);
    if (binary !== undefined) byOutput.set(output.name, binary);
    return output.name;
  });
  return { names, byOutput };
}

function optionalObject(value: unknown, what: string): JsonObject | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalidArgument(`${what} must be an object`);
  return value;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body of a model repository load request: optionally a new model URI, reference URI and version. */
export function decodeLoadRequest(body: Buffer): SourceChange {
  if (body.length === 0) return {};
  const parameters = optionalObject(parseJsonObject(body).parameters, "'parameters'") ?? {};
  const change: SourceChange = {};
  for (const [field, key] of [
    ['uri', 'modelUri'],
    ['reference_uri', 'referenceUri'],
    ['version', 'version'],
  ] as const) {
    const value = parameters[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '')
      throw invalidArgument(`'parameters.${field}' must be a non-empty string`);
    change[key] = value;
  }
  return change;
}
