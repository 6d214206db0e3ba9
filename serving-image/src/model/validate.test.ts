import type { Tensor, TensorSpec } from './tensor.js';
import { validateInputs } from './validate.js';

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
