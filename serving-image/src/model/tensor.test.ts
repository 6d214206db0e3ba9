import {
  createData,
  createTypedData,
  datatypeFromOrt,
  elementCount,
  FIXED_SIZE_DATATYPES,
  isDatatype,
  ortTypeOf,
  type FixedSizeDatatype,
} from './tensor.js';

// Every fixed-size datatype: its onnxruntime type name, the typed array that holds it, and its element size.
const FIXED: [FixedSizeDatatype, string, { new (n: number): ArrayLike<unknown>; BYTES_PER_ELEMENT: number }][] = [
  ['BOOL', 'bool', Uint8Array],
  ['UINT8', 'uint8', Uint8Array],
  ['INT8', 'int8', Int8Array],
  ['UINT16', 'uint16', Uint16Array],
  ['INT16', 'int16', Int16Array],
  ['UINT32', 'uint32', Uint32Array],
  ['INT32', 'int32', Int32Array],
  ['UINT64', 'uint64', BigUint64Array],
  ['INT64', 'int64', BigInt64Array],
  ['FP16', 'float16', Uint16Array], // raw bits: Node 20 has no Float16Array
  ['FP32', 'float32', Float32Array],
  ['FP64', 'float64', Float64Array],
];

test.each(FIXED)('%s is onnxruntime %p in a %p', (datatype, ortType, ArrayClass) => {
  expect(isDatatype(datatype)).toBe(true);
  expect(ortTypeOf(datatype)).toBe(ortType);
  expect(datatypeFromOrt(ortType)).toBe(datatype);
  const info = FIXED_SIZE_DATATYPES[datatype];
  expect(info.byteSize).toBe(ArrayClass.BYTES_PER_ELEMENT);

  const created = info.create(3);
  expect(created).toBeInstanceOf(ArrayClass);
  expect(Array.from(created, Number)).toEqual([0, 0, 0]);

  // A view of a binary request body: the elements at that offset, not a copy.
  const buffer = new ArrayBuffer(32);
  const view = info.view(buffer, 8, 2);
  expect(view).toBeInstanceOf(ArrayClass);
  expect([view.buffer, view.byteOffset, view.length]).toEqual([buffer, 8, 2]);

  const small = createTypedData(datatype, 5);
  expect(small).toBeInstanceOf(ArrayClass);
  expect(Array.from(small, Number)).toEqual([0, 0, 0, 0, 0]);
});

test('BYTES is onnxruntime string, held as strings', () => {
  expect(isDatatype('BYTES')).toBe(true);
  expect(ortTypeOf('BYTES')).toBe('string');
  expect(datatypeFromOrt('string')).toBe('BYTES');
  expect(createData('BYTES', 3)).toEqual(['', '', '']);
  expect(createData('FP32', 2)).toEqual(new Float32Array(2));
});

test.each(['FP8', 'fp32', 'STRING', '', 'toString', 'constructor'])('%p is not a datatype', (name) => {
  expect(isDatatype(name)).toBe(false);
});

test.each(['float8e4m3fn', 'complex64', 'FP32'])('onnxruntime type %p has no protocol datatype', (type) => {
  expect(datatypeFromOrt(type)).toBeUndefined();
});

test('small arrays are carved out of shared buffers without ever sharing elements', () => {
  const arrays = [
    createTypedData('UINT8', 3),
    createTypedData('FP64', 2), // 8-byte aligned after an odd-sized one, or Float64Array would refuse the offset
    createTypedData('INT16', 1),
    createTypedData('INT64', 1),
    createTypedData('FP32', 7),
  ];
  expect(new Set(arrays.map((array) => array.buffer)).size).toBe(1); // 56 bytes: one buffer holds them all
  arrays.forEach((array, i) => {
    expect(array.byteOffset % 8).toBe(0);
    array.fill((array instanceof BigInt64Array ? BigInt(i + 1) : i + 1) as never);
  });
  arrays.forEach((array, i) => expect(Array.from(array, Number)).toEqual(new Array(array.length).fill(i + 1)));
});

test('a full buffer is replaced by a fresh, zeroed one; a large array gets a buffer of its own', () => {
  // The largest arrays that may share a buffer (8 KiB): one at the start of a fresh buffer (within 8 of them), then
  // 7 more fill that buffer exactly, and the next one starts another.
  let first = createTypedData('FP64', 1024);
  for (let i = 0; i < 8 && first.byteOffset !== 0; i++) first = createTypedData('FP64', 1024);
  const shared = [first, ...Array.from({ length: 8 }, () => createTypedData('FP64', 1024))];
  expect(shared.every((array) => array.buffer.byteLength === 64 * 1024)).toBe(true);
  expect(shared.map((array) => [array.buffer === first.buffer, array.byteOffset])).toEqual([
    ...Array.from({ length: 8 }, (_, i) => [true, i * 8192]),
    [false, 0],
  ]);
  shared.forEach((array) => expect(array.every((value) => value === 0)).toBe(true));

  const large = createTypedData('FP64', 1025);
  expect(large.buffer.byteLength).toBe(1025 * 8);
});

test.each([
  [[], 1],
  [[7], 7],
  [[2, 3], 6],
  [[4, 0, 2], 0],
])('a shape %p holds %p elements', (shape, count) => {
  expect(elementCount(shape)).toBe(count);
});
