import { type FileHandle, open } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write';

/*
 * Hugging Face safetensors: an 8-byte little-endian u64 header length, a UTF-8 JSON header padded with spaces to a
 * multiple of 8 bytes, then the raw little-endian tensor data. Typed arrays are laid directly over those bytes,
 * which assumes a little-endian host (every platform Node ships binaries for, except s390x).
 */

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'U8' | 'BOOL';

/**
 * A row-major tensor, `data.length` = product(shape). F16 and BF16 are held widened to a Float32Array; BOOL is
 * one byte per element (0 or 1), as in the file.
 */
export type NamedTensor = {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
};

/** Where a tensor lies in the file: `dataOffsets` are [begin, end) bytes relative to `dataStart`. */
export type SafetensorsTensorInfo = {
  dtype: SafetensorsDtype;
  shape: number[];
  dataOffsets: [number, number];
};

export type SafetensorsHeader = {
  tensors: Record<string, SafetensorsTensorInfo>;
  metadata: Record<string, string>;
  /** Absolute byte offset of the data section, for reading single tensors lazily. */
  dataStart: number;
};

export type SafetensorsContents = { tensors: Record<string, NamedTensor>; metadata: Record<string, string> };

export class SafetensorsFormatError extends Error {
  override readonly name = 'SafetensorsFormatError';
  readonly file: string | undefined;
  readonly tensorName: string | undefined;

  constructor(detail: string, location: { file?: string; tensorName?: string } = {}) {
    const where = [
      location.file,
      location.tensorName === undefined ? undefined : `tensor "${location.tensorName}"`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(where === '' ? detail : `${where}: ${detail}`);
    this.file = location.file;
    this.tensorName = location.tensorName;
  }
}

type TensorData = NamedTensor['data'];

const dtypeSpecifications: Record<
  SafetensorsDtype,
  { byteSize: number; layoutRank: number; arrayType: new (length: number) => TensorData }
> = {
  // layoutRank is the reference writer's dtype order. Laying tensors out by descending rank keeps every tensor
  // aligned to its element size without padding (the reference reader rejects gaps between tensors) and makes
  // our files byte-identical to Python's `save_file` for the same tensors.
  BOOL: { byteSize: 1, layoutRank: 0, arrayType: Uint8Array },
  U8: { byteSize: 1, layoutRank: 1, arrayType: Uint8Array },
  F16: { byteSize: 2, layoutRank: 2, arrayType: Float32Array },
  BF16: { byteSize: 2, layoutRank: 3, arrayType: Float32Array },
  I32: { byteSize: 4, layoutRank: 4, arrayType: Int32Array },
  F32: { byteSize: 4, layoutRank: 5, arrayType: Float32Array },
  I64: { byteSize: 8, layoutRank: 6, arrayType: BigInt64Array },
};

const headerLengthByteSize = 8;
const metadataKey = '__metadata__';

/** Serializes tensors in a deterministic layout: wider dtypes first (see `layoutRank`), then by name. */
export function encodeSafetensors(
  tensors: Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const ordered = Object.entries(tensors)
    .map(([tensorName, tensor]) => ({ tensorName, tensor, bytes: encodeTensorData(tensorName, tensor) }))
    .sort(
      (left, right) =>
        dtypeSpecifications[right.tensor.dtype].layoutRank -
          dtypeSpecifications[left.tensor.dtype].layoutRank ||
        compareStrings(left.tensorName, right.tensorName),
    );

  // Built by hand rather than with one JSON.stringify so that key order is exactly ours (JS objects move
  // integer-like keys first) and a tensor named "__proto__" stays an ordinary key.
  const members: string[] = [];
  if (metadata !== undefined) {
    const metadataMembers = Object.keys(metadata)
      .sort(compareStrings)
      .map((key) => jsonMember(key, JSON.stringify(metadata[key])));
    members.push(jsonMember(metadataKey, `{${metadataMembers.join(',')}}`));
  }
  let dataByteLength = 0;
  for (const { tensorName, tensor, bytes } of ordered) {
    const dataOffsets = [dataByteLength, dataByteLength + bytes.length];
    members.push(
      jsonMember(
        tensorName,
        JSON.stringify({ dtype: tensor.dtype, shape: tensor.shape, data_offsets: dataOffsets }),
      ),
    );
    dataByteLength += bytes.length;
  }
  const headerText = `{${members.join(',')}}`;
  const unpaddedHeader = new TextEncoder().encode(headerText);
  // Padding the header to 8 bytes puts the data section, and with the layout order every tensor, on its alignment.
  const headerByteLength = Math.ceil(unpaddedHeader.length / 8) * 8;

  const output = new Uint8Array(headerLengthByteSize + headerByteLength + dataByteLength);
  new DataView(output.buffer).setBigUint64(0, BigInt(headerByteLength), true);
  output.fill(0x20, headerLengthByteSize, headerLengthByteSize + headerByteLength);
  output.set(unpaddedHeader, headerLengthByteSize);
  let position = headerLengthByteSize + headerByteLength;
  for (const { bytes } of ordered) {
    output.set(bytes, position);
    position += bytes.length;
  }
  return output;
}

/**
 * Parses a whole safetensors file held in memory; `names` restricts decoding to those tensors. Every tensor gets
 * its own copy of the data, so the result never aliases `bytes`. `file` is only used to name errors.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: { names?: string[]; file?: string } = {},
): SafetensorsContents {
  const file = options.file;
  const dataStart = headerLengthByteSize + readHeaderLength(bytes, bytes.length, file);
  const header = parseHeader(bytes.subarray(headerLengthByteSize, dataStart), bytes.length - dataStart, file);
  const tensors = selectTensorNames(header.tensors, options.names, file).map((tensorName) => {
    const info = header.tensors[tensorName];
    const [begin, end] = info.dataOffsets;
    return [
      tensorName,
      decodeTensor(info, copyBytes(bytes.subarray(dataStart + begin, dataStart + end))),
    ] as const;
  });
  return { tensors: Object.fromEntries(tensors), metadata: header.metadata };
}

/** Reads only the header, so that large files can be inspected or read tensor by tensor. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const handle = await open(path, 'r');
  try {
    return await readHeader(handle, path);
  } finally {
    await handle.close();
  }
}

/** Reads the file's tensors (or only `names`) straight from disk, without holding the whole file in memory. */
export async function readSafetensorsFile(
  path: string,
  options: { names?: string[] } = {},
): Promise<SafetensorsContents> {
  const handle = await open(path, 'r');
  try {
    const header = await readHeader(handle, path);
    const tensors: [string, NamedTensor][] = [];
    for (const tensorName of selectTensorNames(header.tensors, options.names, path)) {
      const info = header.tensors[tensorName];
      const [begin, end] = info.dataOffsets;
      const bytes = await readExactly(handle, header.dataStart + begin, end - begin, path);
      tensors.push([tensorName, decodeTensor(info, bytes)]);
    }
    return { tensors: Object.fromEntries(tensors), metadata: header.metadata };
  } finally {
    await handle.close();
  }
}

/** Writes a safetensors file atomically: readers never observe a partially written file. */
export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

async function readHeader(handle: FileHandle, file: string): Promise<SafetensorsHeader> {
  const { size } = await handle.stat();
  const lengthBytes = await readExactly(handle, 0, Math.min(size, headerLengthByteSize), file);
  const headerByteLength = readHeaderLength(lengthBytes, size, file);
  const dataStart = headerLengthByteSize + headerByteLength;
  const headerBytes = await readExactly(handle, headerLengthByteSize, headerByteLength, file);
  return { ...parseHeader(headerBytes, size - dataStart, file), dataStart };
}

/** `bytes` starts at the beginning of the file; `fileByteLength` is the whole file's size. */
function readHeaderLength(bytes: Uint8Array, fileByteLength: number, file: string | undefined): number {
  if (fileByteLength < headerLengthByteSize) {
    throw new SafetensorsFormatError(`only ${fileByteLength} bytes, too short for the 8-byte header length`, {
      file,
    });
  }
  const headerByteLength = new DataView(bytes.buffer, bytes.byteOffset, headerLengthByteSize).getBigUint64(
    0,
    true,
  );
  const available = fileByteLength - headerLengthByteSize;
  if (headerByteLength > BigInt(available)) {
    throw new SafetensorsFormatError(
      `header length ${headerByteLength} is larger than the ${available} bytes that follow it`,
      { file },
    );
  }
  return Number(headerByteLength);
}

function parseHeader(
  headerBytes: Uint8Array,
  dataByteLength: number,
  file: string | undefined,
): Omit<SafetensorsHeader, 'dataStart'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new SafetensorsFormatError(`header is not valid UTF-8 JSON (${(error as Error).message})`, {
      file,
    });
  }
  if (!isRecord(parsed)) throw new SafetensorsFormatError('header is not a JSON object', { file });

  const { [metadataKey]: metadata = {}, ...tensorEntries } = parsed;
  if (!isRecord(metadata) || !Object.values(metadata).every((value) => typeof value === 'string')) {
    throw new SafetensorsFormatError(`${metadataKey} must map strings to strings`, { file });
  }

  const tensors = Object.entries(tensorEntries).map(([tensorName, entry]) => {
    const info = parseTensorInfo(entry, dataByteLength, { file, tensorName });
    return [tensorName, info] as const;
  });

  const byBegin = [...tensors].sort(([, left], [, right]) => left.dataOffsets[0] - right.dataOffsets[0]);
  for (let index = 1; index < byBegin.length; index++) {
    const [previousName, previous] = byBegin[index - 1];
    const [tensorName, info] = byBegin[index];
    if (info.dataOffsets[0] < previous.dataOffsets[1]) {
      throw new SafetensorsFormatError(
        `data_offsets [${info.dataOffsets}] overlap those of tensor "${previousName}" [${previous.dataOffsets}]`,
        { file, tensorName },
      );
    }
  }

  return { tensors: Object.fromEntries(tensors), metadata: metadata as Record<string, string> };
}

function parseTensorInfo(
  entry: unknown,
  dataByteLength: number,
  location: { file: string | undefined; tensorName: string },
): SafetensorsTensorInfo {
  if (!isRecord(entry)) throw new SafetensorsFormatError('header entry is not an object', location);
  const { dtype, shape, data_offsets: dataOffsets } = entry;
  if (typeof dtype !== 'string' || !Object.hasOwn(dtypeSpecifications, dtype)) {
    throw new SafetensorsFormatError(
      `unknown dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(dtypeSpecifications).join(', ')})`,
      location,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw new SafetensorsFormatError(
      `shape ${JSON.stringify(shape)} is not a list of non-negative integers`,
      location,
    );
  }
  if (!Array.isArray(dataOffsets) || dataOffsets.length !== 2 || !dataOffsets.every(isNonNegativeInteger)) {
    throw new SafetensorsFormatError(
      `data_offsets ${JSON.stringify(dataOffsets)} is not [begin, end]`,
      location,
    );
  }
  const [begin, end] = dataOffsets as [number, number];
  if (begin > end || end > dataByteLength) {
    throw new SafetensorsFormatError(
      `data_offsets [${begin}, ${end}] fall outside the data section of ${dataByteLength} bytes`,
      location,
    );
  }
  const checkedDtype = dtype as SafetensorsDtype;
  const expectedByteLength = elementCount(shape) * dtypeSpecifications[checkedDtype].byteSize;
  if (end - begin !== expectedByteLength) {
    throw new SafetensorsFormatError(
      `data is ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${expectedByteLength}`,
      location,
    );
  }
  return { dtype: checkedDtype, shape, dataOffsets: [begin, end] };
}

function selectTensorNames(
  tensors: Record<string, SafetensorsTensorInfo>,
  names: string[] | undefined,
  file: string | undefined,
): string[] {
  if (names === undefined) return Object.keys(tensors);
  for (const tensorName of names) {
    if (!Object.hasOwn(tensors, tensorName)) {
      throw new SafetensorsFormatError('no such tensor in the file', { file, tensorName });
    }
  }
  return names;
}

/** `bytes` must start on an 8-byte boundary of its buffer, so that wider typed arrays can be laid over it. */
function decodeTensor(info: SafetensorsTensorInfo, bytes: Uint8Array): NamedTensor {
  return { dtype: info.dtype, shape: info.shape, data: decodeData(info.dtype, bytes) };
}

function decodeData(dtype: SafetensorsDtype, bytes: Uint8Array): TensorData {
  const { buffer, byteOffset } = bytes;
  const length = bytes.length / dtypeSpecifications[dtype].byteSize;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buffer, byteOffset, length);
    case 'F16':
      return float16ToFloat32(new Uint16Array(buffer, byteOffset, length));
    case 'BF16':
      return bfloat16ToFloat32(new Uint16Array(buffer, byteOffset, length));
    case 'I32':
      return new Int32Array(buffer, byteOffset, length);
    case 'I64':
      return new BigInt64Array(buffer, byteOffset, length);
    case 'U8':
    case 'BOOL':
      return bytes;
  }
}

/**
 * A fresh, aligned copy. Not `bytes.slice()`: on a Node Buffer that returns a view into the (possibly pooled,
 * unaligned) original.
 */
function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

function encodeTensorData(tensorName: string, tensor: NamedTensor): Uint8Array {
  const location = { tensorName };
  if (tensorName === metadataKey) throw new SafetensorsFormatError(`${metadataKey} is reserved`, location);
  const specification = dtypeSpecifications[tensor.dtype];
  if (specification === undefined) {
    throw new SafetensorsFormatError(`unknown dtype ${JSON.stringify(tensor.dtype)}`, location);
  }
  if (!(tensor.data instanceof specification.arrayType)) {
    throw new SafetensorsFormatError(
      `dtype ${tensor.dtype} needs a ${specification.arrayType.name}, got a ${tensor.data.constructor.name}`,
      location,
    );
  }
  if (!tensor.shape.every(isNonNegativeInteger) || elementCount(tensor.shape) !== tensor.data.length) {
    throw new SafetensorsFormatError(
      `shape [${tensor.shape}] does not describe the ${tensor.data.length} values of its data`,
      location,
    );
  }
  const data = tensor.data;
  if (tensor.dtype === 'F16') return new Uint8Array(float32ToFloat16(data as Float32Array).buffer);
  if (tensor.dtype === 'BF16') return new Uint8Array(float32ToBfloat16(data as Float32Array).buffer);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

async function readExactly(
  handle: FileHandle,
  position: number,
  length: number,
  file: string,
): Promise<Uint8Array> {
  const target = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(target, filled, length - filled, position + filled);
    if (bytesRead === 0) {
      throw new SafetensorsFormatError(
        `ended at byte ${position + filled}, expected ${length - filled} more`,
        {
          file,
        },
      );
    }
    filled += bytesRead;
  }
  return target;
}

/** IEEE 754 binary16 → binary32; every half value is exactly representable. */
function float16ToFloat32(halves: Uint16Array): Float32Array {
  const result = new Float32Array(halves.length);
  for (let index = 0; index < halves.length; index++) {
    const bits = halves[index];
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) result[index] = sign * fraction * 2 ** -24;
    else if (exponent === 0x1f) result[index] = fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
    else result[index] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return result;
}

/** binary32 → binary16 rounding to nearest, ties to even (as PyTorch does), overflowing to ±Infinity. */
function float32ToFloat16(values: Float32Array): Uint16Array {
  const valueBits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const result = new Uint16Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const bits = valueBits[index];
    const sign = (bits >>> 16) & 0x8000;
    const exponent = (bits >>> 23) & 0xff;
    const mantissa = bits & 0x7fffff;
    const halfExponent = exponent - 127 + 15;
    if (exponent === 0xff) {
      result[index] = sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
    } else if (halfExponent >= 0x1f) {
      result[index] = sign | 0x7c00;
    } else if (halfExponent <= 0) {
      // Subnormal half: the implicit leading bit becomes explicit and the value is shifted into the 10-bit field.
      result[index] = halfExponent < -10 ? sign : sign | roundShift(mantissa | 0x800000, 14 - halfExponent);
    } else {
      // A carry out of the mantissa correctly increments the exponent, up to Infinity.
      result[index] = sign | ((halfExponent << 10) + roundShift(mantissa, 13));
    }
  }
  return result;
}

/** Drops the low `shift` bits of `value`, rounding to nearest, ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const remainder = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return remainder > half || (remainder === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/** bfloat16 is the top half of a binary32, so widening is a shift. */
function bfloat16ToFloat32(halves: Uint16Array): Float32Array {
  const bits = new Uint32Array(halves.length);
  for (let index = 0; index < halves.length; index++) bits[index] = halves[index] << 16;
  return new Float32Array(bits.buffer);
}

/** binary32 → bfloat16 rounding to nearest, ties to even; NaN stays NaN (truncation could turn it into Infinity). */
function float32ToBfloat16(values: Float32Array): Uint16Array {
  const valueBits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const result = new Uint16Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const bits = valueBits[index];
    result[index] =
      (bits & 0x7fffffff) > 0x7f800000 ? (bits >>> 16) | 0x40 : (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
  }
  return result;
}

function elementCount(shape: number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

function isNonNegativeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Code-unit order, independent of locale, so that layouts are the same on every machine. */
function compareStrings(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function jsonMember(key: string, valueJson: string): string {
  return `${JSON.stringify(key)}:${valueJson}`;
}
