// Encodes the core's inference response as an Open Inference Protocol response body: JSON, or a JSON header
// followed by raw little-endian tensor bytes for the outputs asked for as binary data.
import type { InferenceResponse } from '../model/core.js';
import type { Tensor } from '../model/tensor.js';
import type { BinaryOutputs } from './decode.js';

export interface EncodedResponse {
  body: Buffer;
  /** Set when binary tensor data follows the JSON: the value of the Inference-Header-Content-Length header. */
  jsonLength: number | undefined;
}

export function encodeInferResponse(response: InferenceResponse, binaryOutputs: BinaryOutputs): EncodedResponse {
  const binaryParts: Buffer[] = [];
  const outputs = response.outputs.map((output) => {
    const head = `{"name":${JSON.stringify(output.name)},"datatype":"${output.datatype}","shape":[${output.shape.join(',')}]`;
    if (!(binaryOutputs.byOutput.get(output.name) ?? binaryOutputs.all)) return `${head},"data":${dataAsJson(output)}}`;
    binaryParts.push(Buffer.from(output.data.buffer, output.data.byteOffset, output.data.byteLength));
    return `${head},"parameters":{"binary_data_size":${output.data.byteLength}}}`;
  });
  const id = response.id === undefined ? '' : `"id":${JSON.stringify(response.id)},`;
  const json =
    `{"model_name":${JSON.stringify(response.modelName)},"model_version":${JSON.stringify(response.modelVersion)},` +
    `${id}"outputs":[${outputs.join(',')}]}`;
  if (binaryParts.length === 0) return { body: Buffer.from(json), jsonLength: undefined };
  const header = Buffer.from(json);
  return { body: Buffer.concat([header, ...binaryParts]), jsonLength: header.length };
}

/**
 * A flat JSON array of the tensor's values, written directly: a number's string form is its JSON form, and
 * this skips building an intermediate Array for JSON.stringify. Non-finite floats have no JSON form: null.
 */
export function dataAsJson(tensor: Tensor): string {
  const data = tensor.data;
  if (tensor.datatype === 'BOOL') return `[${Array.from(data as Uint8Array, (b) => (b ? 'true' : 'false')).join(',')}]`;
  if (tensor.datatype === 'INT64' || tensor.datatype === 'UINT64') return `[${(data as BigInt64Array).join(',')}]`;
  let json = '[';
  for (let i = 0; i < data.length; i++) {
    const value = data[i] as number;
    json += (i === 0 ? '' : ',') + (Number.isFinite(value) ? value : 'null');
  }
  return `${json}]`;
}
