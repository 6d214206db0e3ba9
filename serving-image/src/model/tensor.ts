// Tensors as the inference core sees them: Open Inference Protocol datatypes over flat typed arrays.
// BYTES (strings) and FP16 are reported in metadata but not accepted for inference.

export type NumericDatatype =
  'BOOL' | 'UINT8' | 'INT8' | 'UINT16' | 'INT16' | 'UINT32' | 'INT32' | 'UINT64' | 'INT64' | 'FP32' | 'FP64';
export type Datatype = NumericDatatype | 'FP16' | 'BYTES';

export type TensorData =
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

export interface Tensor {
  name: string;
  datatype: NumericDatatype;
  shape: number[];
  data: TensorData;
}

/** A model input or output as declared by the model; -1 marks a dynamic dimension. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

interface DatatypeInfo {
  ortType: string;
  create: (length: number) => TensorData;
  /** Bytes per element in the binary tensor data extension (and in memory). */
  byteSize: number;
}

export const NUMERIC_DATATYPES: Record<NumericDatatype, DatatypeInfo> = {
  BOOL: { ortType: 'bool', create: (n) => new Uint8Array(n), byteSize: 1 },
  UINT8: { ortType: 'uint8', create: (n) => new Uint8Array(n), byteSize: 1 },
  INT8: { ortType: 'int8', create: (n) => new Int8Array(n), byteSize: 1 },
  UINT16: { ortType: 'uint16', create: (n) => new Uint16Array(n), byteSize: 2 },
  INT16: { ortType: 'int16', create: (n) => new Int16Array(n), byteSize: 2 },
  UINT32: { ortType: 'uint32', create: (n) => new Uint32Array(n), byteSize: 4 },
  INT32: { ortType: 'int32', create: (n) => new Int32Array(n), byteSize: 4 },
  UINT64: { ortType: 'uint64', create: (n) => new BigUint64Array(n), byteSize: 8 },
  INT64: { ortType: 'int64', create: (n) => new BigInt64Array(n), byteSize: 8 },
  FP32: { ortType: 'float32', create: (n) => new Float32Array(n), byteSize: 4 },
  FP64: { ortType: 'float64', create: (n) => new Float64Array(n), byteSize: 8 },
};

const ORT_TO_DATATYPE: Record<string, Datatype> = {
  ...Object.fromEntries(
    Object.entries(NUMERIC_DATATYPES).map(([datatype, info]) => [info.ortType, datatype as Datatype]),
  ),
  float16: 'FP16',
  string: 'BYTES',
};

export function isNumericDatatype(datatype: string): datatype is NumericDatatype {
  return Object.hasOwn(NUMERIC_DATATYPES, datatype);
}

export function datatypeFromOrt(ortType: string): Datatype | undefined {
  return ORT_TO_DATATYPE[ortType];
}

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}
