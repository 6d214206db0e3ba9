// IEEE 754 half precision, which JavaScript has no typed array for on Node 20: FP16 tensors travel as their
// raw 16-bit patterns (a Uint16Array), converted to and from numbers only at the JSON edge.

/** The largest finite FP16 value; numbers at or beyond 65520 round to infinity. */
export const FLOAT16_MAX = 65504;

/** The FP16 bit pattern nearest to `value` (ties to even), infinity beyond the range, as IEEE 754 rounds. */
export function toFloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= 65520) return sign | 0x7c00;
  if (magnitude < 2 ** -14) return sign | roundHalfToEven(magnitude * 2 ** 24); // subnormal (1024: smallest normal)
  let exponent = Math.floor(Math.log2(magnitude));
  if (magnitude / 2 ** exponent >= 2)
    exponent++; // log2's rounding near powers of two
  else if (magnitude / 2 ** exponent < 1) exponent--;
  const mantissa = roundHalfToEven((magnitude / 2 ** exponent - 1) * 1024);
  // A mantissa that rounds up to 1024 carries into the exponent, which the addition does by itself.
  return sign | (((exponent + 15) << 10) + mantissa);
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
