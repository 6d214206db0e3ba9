import type { Tensor, TensorSpec } from './tensor.js';
import { validateInputs, validateRequestedOutputs } from './validate.js';

const specs: TensorSpec[] = [
  { name: 'a', datatype: 'FP32', shape: [-1, 2] },
  { name: 'b', datatype: 'INT64', shape: [-1] },
];
const a = (rows: number): Tensor => ({
  name: 'a',
  datatype: 'FP32',
  shape: [rows, 2],
  data: new Float32Array(rows * 2),
});
const b = (rows: number): Tensor => ({ name: 'b', datatype: 'INT64', shape: [rows], data: new BigInt64Array(rows) });

test('orders the inputs as the model declares them and counts rows', () => {
  const { ordered, rows } = validateInputs(specs, [b(3), a(3)]);
  expect(ordered.map((t) => t.name)).toEqual(['a', 'b']);
  expect(rows).toBe(3);
});

test.each([
  [[a(1)], /missing input 'b'/],
  [[a(2), b(3)], /input 'b' has 3 rows but the other inputs have 2/],
  [[a(1), b(1), { ...a(1), name: 'c' }], /unknown input 'c'; the model's inputs are 'a', 'b'/],
  [[{ ...a(1), data: new Float32Array(3) }, b(1)], /input 'a' has 3 values, its shape \[1,2\] needs 2/],
])('rejects %#', (inputs, message) => {
  expect(() => validateInputs(specs, inputs as Tensor[])).toThrow(message);
});

// The datatype and shape checks against the model's declaration, each on its own (issue #14: a server-level
// test was all that noticed them gone).
test.each([
  [{ ...a(1), datatype: 'FP64', data: new Float64Array(2) }, /input 'a' has datatype FP64, the model expects FP32/],
  [{ ...a(1), datatype: 'FP16', data: new Uint16Array(2) }, /input 'a' has datatype FP16, the model expects FP32/],
  [{ ...a(1), shape: [1, 3], data: new Float32Array(3) }, /input 'a' has shape \[1,3\], the model expects \[-1,2\]/],
  [{ ...a(1), shape: [2], data: new Float32Array(2) }, /input 'a' has shape \[2\], the model expects \[-1,2\]/],
  [{ ...a(1), shape: [1, 2, 1] }, /input 'a' has shape \[1,2,1\], the model expects \[-1,2\]/], // an extra dimension
  [{ ...a(1), shape: [0, 2], data: new Float32Array(0) }, /input 'a' is empty: its shape \[0,2\] has a 0/],
])('checks each input against its spec %#', (input, message) => {
  expect(() => validateInputs(specs, [input as Tensor, b(1)])).toThrow(message);
});

test('BYTES inputs are counted in strings', () => {
  const strings: TensorSpec[] = [{ name: 's', datatype: 'BYTES', shape: [-1, 1] }];
  const input = (data: string[]): Tensor => ({ name: 's', datatype: 'BYTES', shape: [2, 1], data });
  expect(validateInputs(strings, [input(['x', 'y'])]).rows).toBe(2);
  expect(() => validateInputs(strings, [input(['x'])])).toThrow(/input 's' has 1 values, its shape \[2,1\] needs 2/);
});

test('requested outputs must exist and be asked for once', () => {
  const outputs: TensorSpec[] = [{ name: 'y', datatype: 'FP32', shape: [-1] }];
  expect(() => validateRequestedOutputs(outputs, undefined)).not.toThrow();
  expect(() => validateRequestedOutputs(outputs, ['y'])).not.toThrow();
  expect(() => validateRequestedOutputs(outputs, ['z'])).toThrow(/unknown output 'z'; the model's outputs are 'y'/);
  expect(() => validateRequestedOutputs(outputs, ['y', 'y'])).toThrow(/output 'y' is requested more than once/);
});

test('a lone input must still carry the name of the lone spec', () => {
  const one: TensorSpec[] = [{ name: 'a', datatype: 'FP32', shape: [-1, 2] }];
  expect(validateInputs(one, [a(2)])).toEqual({ ordered: [a(2)], rows: 2 });
  expect(() => validateInputs(one, [{ ...a(1), name: 'x' }])).toThrow(/unknown input 'x'; the model's inputs are 'a'/);
});

test('an input given twice is refused by name', () => {
  expect(() => validateInputs(specs, [a(1), b(1), a(1)])).toThrow(/input 'a' is given more than once/);
});

test('a scalar input counts as one row', () => {
  const scalar: TensorSpec[] = [{ name: 't', datatype: 'FP32', shape: [] }];
  const input: Tensor = { name: 't', datatype: 'FP32', shape: [], data: Float32Array.of(0.5) };
  expect(validateInputs(scalar, [input]).rows).toBe(1);
  const both: TensorSpec[] = [...scalar, { name: 'u', datatype: 'FP32', shape: [] }];
  expect(validateInputs(both, [input, { ...input, name: 'u' }]).rows).toBe(1);
});
