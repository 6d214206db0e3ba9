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
  view: (buffer: ArrayBuffer, byteOffset: number, length: number) => TypedTensorData;
  /** Bytes per element in the binary tensor data extension (and in memory). */
  byteSize: number;
}

export const FIXED_SIZE_DATATYPES: Record<FixedSizeDatatype, FixedSizeInfo> = {
  BOOL: { ortType: 'bool', create: (n) => new Uint8Array(n), view: (b, o, n) => new Uint8Array(b, o, n), byteSize: 1 },
  UINT8: {
    ortType: 'uint8',
    create: (n) => new Uint8Array(n),
    view: (b, o, n) => new Uint8Array(b, o, n),
    byteSize: 1,
  },
  INT8: { ortType: 'int8', create: (n) => new Int8Array(n), view: (b, o, n) => new Int8Array(b, o, n), byteSize: 1 },
  UINT16: {
    ortType: 'uint16',
    create: (n) => new Uint16Array(n),
    view: (b, o, n) => new Uint16Array(b, o, n),
    byteSize: 2,
  },
  INT16: {
    ortType: 'int16',
    create: (n) => new Int16Array(n),
    view: (b, o, n) => new Int16Array(b, o, n),
    byteSize: 2,
  },
  UINT32: {
    ortType: 'uint32',
    create: (n) => new Uint32Array(n),
    view: (b, o, n) => new Uint32Array(b, o, n),
    byteSize: 4,
  },
  INT32: {
    ortType: 'int32',
    create: (n) => new Int32Array(n),
    view: (b, o, n) => new Int32Array(b, o, n),
    byteSize: 4,
  },
  UINT64: {
    ortType: 'uint64',
    create: (n) => new BigUint64Array(n),
    view: (b, o, n) => new BigUint64Array(b, o, n),
    byteSize: 8,
  },
  INT64: {
    ortType: 'int64',
    create: (n) => new BigInt64Array(n),
    view: (b, o, n) => new BigInt64Array(b, o, n),
    byteSize: 8,
  },
  FP16: {
    ortType: 'float16',
    create: (n) => new Uint16Array(n),
    view: (b, o, n) => new Uint16Array(b, o, n),
    byteSize: 2,
  },
  FP32: {
    ortType: 'float32',
    create: (n) => new Float32Array(n),
    view: (b, o, n) => new Float32Array(b, o, n),
    byteSize: 4,
  },
  FP64: {
    ortType: 'float64',
    create: (n) => new Float64Array(n),
    view: (b, o, n) => new Float64Array(b, o, n),
    byteSize: 8,
  },
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

/**
 * Small typed arrays carved out of shared 64 KiB buffers: a `new Float32Array(30)` per request costs an
 * off-heap backing store of its own (allocation, tracking, finalisation), a view of a shared buffer does not.
 * Views are never handed out twice; a buffer is collected once its last view is.
 */
const ARENA_BYTES = 64 * 1024;
class Arena {
  private buffer = new ArrayBuffer(ARENA_BYTES);
  private offset = 0;

  /** A zeroed, 8-byte aligned view for `length` elements; undefined when too large to share a buffer. */
  view(info: FixedSizeInfo, length: number): TypedTensorData | undefined {
    const bytes = length * info.byteSize;
    if (bytes > ARENA_BYTES / 8) return undefined;
    if (this.offset + bytes > ARENA_BYTES) {
      this.buffer = new ArrayBuffer(ARENA_BYTES);
      this.offset = 0;
    }
    const at = this.offset;
    this.offset = (at + bytes + 7) & ~7;
    return info.view(this.buffer, at, length);
  }
}
const arena = new Arena();

/** A zeroed typed array for `length` elements of a fixed-size datatype, from the arena when small. */
export function createTypedData(datatype: FixedSizeDatatype, length: number): TypedTensorData {
  const info = FIXED_SIZE_DATATYPES[datatype];
  return arena.view(info, length) ?? info.create(length);
}

/** Zeros (empty strings for BYTES) of `datatype`. */
export function createData(datatype: Datatype, length: number): TensorData {
  return datatype === 'BYTES' ? new Array<string>(length).fill('') : createTypedData(datatype, length);
}

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}
