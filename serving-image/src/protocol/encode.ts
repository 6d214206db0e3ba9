// Encodes the core's inference response as an Open Inference Protocol response body: JSON, or a JSON header
// followed by raw little-endian tensor bytes for the outputs asked for as binary data.
import type { InferenceResponse } from '../model/core.js';
import { fromFloat16Bits } from '../model/float16.js';
import type { Tensor, TypedTensorData } from '../model/tensor.js';
import type { BinaryOutputs } from './decode.js';

export interface EncodedResponse {
  /** A string when it is all JSON: the socket encodes it on the way out, with no Buffer in between. */
  body: string | Buffer;
  /** Set when binary tensor data follows the JSON: the value of the Inference-Header-Content-Length header. */
  jsonLength: number | undefined;
}

export function encodeInferResponse(response: InferenceResponse, binaryOutputs: BinaryOutputs): EncodedResponse {
  const binaryParts: Buffer[] = [];
  let outputs = '';
  for (const output of response.outputs) {
    const head = `{"name":${JSON.stringify(output.name)},"datatype":"${output.datatype}","shape":[${output.shape.join(',')}]`;
    if (outputs !== '') outputs += ',';
    if (!(binaryOutputs.byOutput.get(output.name) ?? binaryOutputs.all)) {
      outputs += `${head},"data":${dataAsJson(output)}}`;
      continue;
    }
    const bytes = binaryData(output);
    binaryParts.push(bytes);
    outputs += `${head},"parameters":{"binary_data_size":${bytes.length}}}`;
  }
  const id = response.id === undefined ? '' : `"id":${JSON.stringify(response.id)},`;
  const json = `${responsePrefix(response.modelName, response.modelVersion)}${id}"outputs":[${outputs}]}`;
  if (binaryParts.length === 0) return { body: json, jsonLength: undefined };
  const header = Buffer.from(json);
  return { body: Buffer.concat([header, ...binaryParts]), jsonLength: header.length };
}

// A server answers for one model and version at a time: their JSON is escaped once per change, not per response.
let prefix = { name: '', version: '', json: '' };
function responsePrefix(name: string, version: string): string {
  if (name !== prefix.name || version !== prefix.version) {
    prefix = {
      name,
      version,
      json: `{"model_name":${JSON.stringify(name)},"model_version":${JSON.stringify(version)},`,
    };
  }
  return prefix.json;
}

/**
 * A flat JSON array of the tensor's values, written directly: a number's string form is its JSON form, and
 * this skips building an intermediate Array for JSON.stringify. Non-finite floats have no JSON form: null.
 */
export function dataAsJson(tensor: Tensor): string {
  if (tensor.datatype === 'BYTES') return JSON.stringify(tensor.data);
  const data = tensor.data as TypedTensorData;
  if (tensor.datatype === 'FP16') return finiteNumbersAsJson(Array.from(data as Uint16Array, fromFloat16Bits));
  if (tensor.datatype === 'BOOL') return `[${Array.from(data as Uint8Array, (b) => (b ? 'true' : 'false')).join(',')}]`;
  if (tensor.datatype === 'INT64' || tensor.datatype === 'UINT64') return `[${(data as BigInt64Array).join(',')}]`;
  return finiteNumbersAsJson(data as Float32Array);
}

function finiteNumbersAsJson(data: ArrayLike<number>): string {
  let json = '[';
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    json += (i === 0 ? '' : ',') + (Number.isFinite(value) ? value : 'null');
  }
  return `${json}]`;
}

/** The binary tensor data extension's bytes: raw little-endian elements, or BYTES as 4-byte lengths and UTF-8. */
function binaryData(tensor: Tensor): Buffer {
  if (tensor.datatype !== 'BYTES') {
    const data = tensor.data as TypedTensorData;
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  const parts = (tensor.data as string[]).flatMap((text) => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    return [length, bytes];
  });
  return Buffer.concat(parts);
}
