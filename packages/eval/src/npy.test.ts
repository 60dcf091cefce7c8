import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from './npy';

/** A .npy v1.0 file as NumPy writes it, built by hand. */
function handMadeNpy(descr: string, shape: string, fortran: boolean, payload: ArrayBuffer): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
  header += `${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
  const bytes = new Uint8Array(10 + header.length + payload.byteLength);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(new Uint8Array(payload), 10 + header.length);
  return bytes;
}

describe('npy', () => {
  it('reads float32 C-order matrices', () => {
    const bytes = handMadeNpy('<f4', '(2, 3)', false, Float32Array.of(1, 2, 3, 4, 5, 6).buffer);
    const array = parseNpy(bytes);
    expect(array.shape).toEqual([2, 3]);
    expect(Array.from(array.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('converts float64 and Fortran order', () => {
    // Fortran order stores columns first: [[1, 2, 3], [4, 5, 6]] is 1, 4, 2, 5, 3, 6.
    const bytes = handMadeNpy('<f8', '(2, 3)', true, Float64Array.of(1, 4, 2, 5, 3, 6).buffer);
    expect(Array.from(parseNpy(bytes).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('round-trips 1-D to 3-D arrays through encodeNpy', () => {
    for (const shape of [[5], [2, 3], [2, 3, 4]]) {
      const data = Float32Array.from(
        { length: shape.reduce((a, b) => a * b, 1) },
        (_value, index) => index / 7,
      );
      const encoded = encodeNpy({ shape, data });
      expect((encoded.length - encoded.indexOf(0x0a) - 1) % 4).toBe(0);
      const decoded = parseNpy(encoded);
      expect(decoded.shape).toEqual(shape);
      expect(Array.from(decoded.data)).toEqual(Array.from(data));
    }
  });

  it('names the file on bad input', () => {
    expect(() => parseNpy(new Uint8Array(20), 'q.npy')).toThrow(/q\.npy: not a \.npy file/);
    const ints = handMadeNpy('<i8', '(2,)', false, new BigInt64Array(2).buffer);
    expect(() => parseNpy(ints, 'ids.npy')).toThrow(/ids\.npy: dtype <i8 is not supported/);
    const truncated = handMadeNpy('<f4', '(4, 4)', false, new Float32Array(3).buffer);
    expect(() => parseNpy(truncated, 't.npy')).toThrow(/t\.npy: truncated/);
  });
});
