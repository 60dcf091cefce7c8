import { readFile } from 'node:fs/promises';

/** A float32 array read from or written to NumPy's `.npy` format, C order. */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses a `.npy` file (format versions 1–3) holding little-endian float32 or float64 in C or Fortran order;
 * float64 is converted to float32 and Fortran order is transposed, so any framework's export can be scored.
 */
export function parseNpy(bytes: Uint8Array, file = '<buffer>'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((value, index) => bytes[index] !== value)) {
    throw new Error(`${file}: not a .npy file (missing the \\x93NUMPY magic string)`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortranOrder = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`${file}: unreadable .npy header ${header.trim()}`);
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(Number);
  const count = shape.reduce((product, value) => product * value, 1);
  const dataStart = headerStart + headerLength;
  const itemSize = descr === '<f4' || descr === '|f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (itemSize === 0) {
    throw new Error(`${file}: dtype ${descr} is not supported; save float32 ('<f4') or float64 ('<f8')`);
  }
  if (bytes.length - dataStart < count * itemSize) {
    throw new Error(
      `${file}: truncated: shape (${shape.join(', ')}) needs ${count * itemSize} bytes of data`,
    );
  }
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    values[i] =
      itemSize === 4 ? view.getFloat32(dataStart + 4 * i, true) : view.getFloat64(dataStart + 8 * i, true);
  }
  return { shape, data: fortranOrder ? fortranToC(values, shape) : values };
}

function fortranToC(values: Float32Array, shape: number[]): Float32Array {
  const result = new Float32Array(values.length);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  for (let fortranOffset = 0; fortranOffset < values.length; fortranOffset++) {
    let cOffset = 0;
    for (let axis = 0; axis < rank; axis++) cOffset = cOffset * shape[axis]! + index[axis]!;
    result[cOffset] = values[fortranOffset]!;
    for (let axis = 0; axis < rank; axis++) {
      index[axis]! += 1;
      if (index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
  return result;
}

/** Reads a `.npy` file; errors name the file. */
export async function readNpy(file: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new Error(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseNpy(bytes, file);
}

/** Encodes a float32 array as `.npy` version 1.0 (C order), for tests and for exporting embeddings. */
export function encodeNpy(array: NpyArray): Uint8Array {
  const shapeText = array.shape.length === 1 ? `${array.shape[0]},` : array.shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shapeText}), }`;
  // Data starts on a 64-byte boundary; the header ends with a newline.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64);
  header += '\n';
  const bytes = new Uint8Array(10 + header.length + array.data.length * 4);
  bytes.set(MAGIC, 0);
  bytes[6] = 1;
  bytes[7] = 0;
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  new Uint8Array(bytes.buffer, 10 + header.length).set(
    new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength),
  );
  return bytes;
}
