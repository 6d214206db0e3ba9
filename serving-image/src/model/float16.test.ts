import { fromFloat16Bits, toFloat16Bits } from './float16.js';

// [value, the bit pattern numpy's float16 gives it] — numpy rounds as IEEE 754 does (ties to even).
const NUMPY: [number, number][] = [
  [0.0, 0],
  [-0.0, 32768],
  [1.0, 15360],
  [-2.5, 49408],
  [0.1, 11878],
  [0.333333, 13653],
  [65504.0, 31743],
  [65519.0, 31743],
  [65520.0, 31744],
  [-70000.0, 64512],
  [6.1035156e-5, 1024],
  [6.0e-5, 1007],
  [5.96e-8, 1],
  [2.98e-8, 0],
  [2 ** -25, 0], // exactly half the smallest subnormal: ties to even, 0,
  [1e-9, 0],
  [1.0009765625, 15361],
  [1.00048828125, 15360],
  [1.00146484375, 15362],
  [2049.0, 26624],
  [2051.0, 26626],
  [1234.5678, 25811],
  [-0.0001, 34446],
  // These two checked with Python's struct 'e' (IEEE 754 half precision, ties to even, as numpy):
  [2053.0, 26626], // halfway between 2052 (mantissa 2, even) and 2054
  [1023.9999999999999, 25600], // just below 1024, whose log2 rounds up to 10: 1024
];

test.each(NUMPY)('%p becomes the bits %p, as numpy rounds it', (value, bits) => {
  expect(toFloat16Bits(value)).toBe(bits);
});

test('every finite bit pattern survives bits → number → bits', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    if ((bits & 0x7c00) === 0x7c00) continue; // infinities and NaNs
    expect(toFloat16Bits(fromFloat16Bits(bits))).toBe(bits);
  }
});

test('specials', () => {
  expect(fromFloat16Bits(0x7c00)).toBe(Infinity);
  expect(fromFloat16Bits(0xfc00)).toBe(-Infinity);
  expect(fromFloat16Bits(0x7e00)).toBeNaN();
  expect(toFloat16Bits(NaN)).toBe(0x7e00);
  expect(fromFloat16Bits(1)).toBe(2 ** -24);
  expect(fromFloat16Bits(0x7bff)).toBe(65504);
});
