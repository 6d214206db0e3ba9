// Tensors as the inference core sees them: Open Inference Protocol datatypes over flat arrays. Fixed-size
// datatypes are typed arrays (FP16 as its raw bits in a Uint16Array, which is what onnxruntime-node takes and
// returns); BYTES are strings (onnxruntime-node's string tensors).

export type FixedSizeDatatype =
  'BOOL' | 'UINT8' | 'INT8' | 'UINT16' | 'INT16' | 'UINT32' | 'INT32' | 'UINT64' | 'INT64' | 'FP16' | 'FP32' | 'FP64';
export type Datatype = FixedSizeDatatype | 'BYTES';

export type TypedTensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;
export type TensorData = TypedTensorData | string[];

export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/** A model input or output as declared by the model; -1 marks a dynamic dimension. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

interface FixedSizeInfo {
  ortType: string;
  create: (length: number) => TypedTensorData;
  /** Bytes per element in the binary tensor data extension (and in memory). */
  byteSize: number;
}

export const FIXED_SIZE_DATATYPES: Record<FixedSizeDatatype, FixedSizeInfo> = {
  BOOL: { ortType: 'bool', create: (n) => new Uint8Array(n), byteSize: 1 },
  UINT8: { ortType: 'uint8', create: (n) => new Uint8Array(n), byteSize: 1 },
  INT8: { ortType: 'int8', create: (n) => new Int8Array(n), byteSize: 1 },
  UINT16: { ortType: 'uint16', create: (n) => new Uint16Array(n), byteSize: 2 },
  INT16: { ortType: 'int16', create: (n) => new Int16Array(n), byteSize: 2 },
  UINT32: { ortType: 'uint32', create: (n) => new Uint32Array(n), byteSize: 4 },
  INT32: { ortType: 'int32', create: (n) => new Int32Array(n), byteSize: 4 },
  UINT64: { ortType: 'uint64', create: (n) => new BigUint64Array(n), byteSize: 8 },
  INT64: { ortType: 'int64', create: (n) => new BigInt64Array(n), byteSize: 8 },
  FP16: { ortType: 'float16', create: (n) => new Uint16Array(n), byteSize: 2 },
  FP32: { ortType: 'float32', create: (n) => new Float32Array(n), byteSize: 4 },
  FP64: { ortType: 'float64', create: (n) => new Float64Array(n), byteSize: 8 },
};

const ORT_TO_DATATYPE: Record<string, Datatype> = {
  ...Object.fromEntries(
    Object.entries(FIXED_SIZE_DATATYPES).map(([datatype, info]) => [info.ortType, datatype as Datatype]),
  ),
  string: 'BYTES',
};

export function isDatatype(datatype: string): datatype is Datatype {
  return datatype === 'BYTES' || Object.hasOwn(FIXED_SIZE_DATATYPES, datatype);
}

export function ortTypeOf(datatype: Datatype): string {
  return datatype === 'BYTES' ? 'string' : FIXED_SIZE_DATATYPES[datatype].ortType;
}

export function datatypeFromOrt(ortType: string): Datatype | undefined {
  return ORT_TO_DATATYPE[ortType];
}

/** Zeros (empty strings for BYTES) of `datatype`. */
export function createData(datatype: Datatype, length: number): TensorData {
  return datatype === 'BYTES' ? new Array<string>(length).fill('') : FIXED_SIZE_DATATYPES[datatype].create(length);
}

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}
