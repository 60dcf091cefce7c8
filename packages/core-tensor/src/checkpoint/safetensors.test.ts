import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
  readSafetensorsFile,
  readSafetensorsHeader,
  SafetensorsFormatError,
  writeSafetensorsFile,
} from './safetensors';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'safetensors-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const ascii = (text: string) => [...text].map((character) => character.charCodeAt(0));
const u64LittleEndian = (value: number) => [value & 0xff, value >>> 8, 0, 0, 0, 0, 0, 0];

describe('byte layout (what Python safetensors writes and reads)', () => {
  it('writes the reference implementation test vector: one F32 tensor, header already a multiple of 8', () => {
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    const expected = new Uint8Array([
      ...u64LittleEndian(64),
      ...ascii(header),
      ...[0x00, 0x00, 0x00, 0x00], // 0.0
      ...[0x00, 0x00, 0x80, 0x3f], // 1.0
      ...[0x00, 0x00, 0x00, 0x40], // 2.0
      ...[0x00, 0x00, 0x40, 0x40], // 3.0
      ...[0x00, 0x00, 0x80, 0x40], // 4.0
      ...[0x00, 0x00, 0xa0, 0x40], // 5.0
    ]);
    const tensors = {
      'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) },
    } satisfies Record<string, NamedTensor>;

    expect(header.length).toBe(64);
    expect(encodeSafetensors(tensors)).toEqual(expected);
    expect(decodeSafetensors(expected)).toEqual({ tensors, metadata: {} });
  });

  it('pads the header with spaces, writes metadata first and lays wider dtypes out first', () => {
    const header =
      '{"__metadata__":{"format":"pt"},' +
      '"b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},' +
      '"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}';
    const expected = new Uint8Array([
      ...u64LittleEndian(144),
      ...ascii(header),
      ...ascii('       '),
      ...[0xff, 0xff, 0xff, 0xff], // I32 -1
      ...[0x01, 0x02], // U8 1, 2
    ]);
    const tensors = {
      a: { dtype: 'U8', shape: [2], data: new Uint8Array([1, 2]) },
      b: { dtype: 'I32', shape: [1], data: new Int32Array([-1]) },
    } satisfies Record<string, NamedTensor>;

    expect(header.length).toBe(137);
    expect(encodeSafetensors(tensors, { format: 'pt' })).toEqual(expected);
    expect(decodeSafetensors(expected)).toEqual({ tensors, metadata: { format: 'pt' } });
  });

  it('writes an empty file as "{}" padded to 8 bytes', () => {
    expect(encodeSafetensors({})).toEqual(new Uint8Array([...u64LittleEndian(8), ...ascii('{}      ')]));
  });
});

describe('round trip', () => {
  const everyDtype = {
    f32: { dtype: 'F32', shape: [2, 3], data: new Float32Array([0, -1.5, 3.25, 1e-30, -0, Number.NaN]) },
    f16: {
      dtype: 'F16',
      shape: [7],
      data: new Float32Array([1, -2, 0.5, 65504, 2 ** -24, Number.POSITIVE_INFINITY, -0]),
    },
    bf16: { dtype: 'BF16', shape: [2, 2], data: new Float32Array([1, -2, 3.140625, 2 ** 100]) },
    i32: { dtype: 'I32', shape: [3], data: new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]) },
    i64: { dtype: 'I64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 0n, 2n ** 62n + 1n]) },
    u8: { dtype: 'U8', shape: [2, 1], data: new Uint8Array([0, 255]) },
    bool: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
    empty: { dtype: 'I64', shape: [0, 4], data: new BigInt64Array(0) },
  } satisfies Record<string, NamedTensor>;

  it('keeps every dtype exactly, in memory', () => {
    const decoded = decodeSafetensors(encodeSafetensors(everyDtype, { note: 'x' }));
    expect(decoded).toEqual({ tensors: everyDtype, metadata: { note: 'x' } });
    expect(decoded.tensors.f32.data).toBeInstanceOf(Float32Array);
    expect(decoded.tensors.f16.data).toBeInstanceOf(Float32Array);
    expect(decoded.tensors.i64.data).toBeInstanceOf(BigInt64Array);
  });

  it('keeps every dtype exactly, through a file, and reads only the requested tensors', async () => {
    const path = join(directory, 'all.safetensors');
    await writeSafetensorsFile(path, everyDtype, { note: 'x' });

    expect(await readSafetensorsFile(path)).toEqual({ tensors: everyDtype, metadata: { note: 'x' } });
    expect(await readSafetensorsFile(path, { names: ['i32', 'bf16'] })).toEqual({
      tensors: { i32: everyDtype.i32, bf16: everyDtype.bf16 },
      metadata: { note: 'x' },
    });
    await expect(readSafetensorsFile(path, { names: ['absent'] })).rejects.toThrow(
      /all\.safetensors, tensor "absent": no such tensor/,
    );
  });

  it('reads the header alone, with offsets that locate each tensor in the file', async () => {
    const path = join(directory, 'header.safetensors');
    const bytes = encodeSafetensors(everyDtype);
    await writeFile(path, bytes);

    const header = await readSafetensorsHeader(path);
    expect(header.metadata).toEqual({});
    expect(header.tensors.i32).toEqual({ dtype: 'I32', shape: [3], dataOffsets: expect.any(Array) });
    const [begin, end] = header.tensors.i32.dataOffsets;
    const slice = bytes.slice(header.dataStart + begin, header.dataStart + end);
    expect(new Int32Array(slice.buffer)).toEqual(everyDtype.i32.data);
  });

  it('decodes bytes that are not aligned in their buffer (as Node Buffers from a pool may be)', () => {
    const bytes = encodeSafetensors(everyDtype);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(decodeSafetensors(shifted.subarray(1)).tensors).toEqual(everyDtype);
  });
});

describe('half precision', () => {
  /** A file holding one 16-bit tensor with the given raw bit patterns. */
  const halfFile = (dtype: 'F16' | 'BF16', bits: number[]) => {
    const header = `{"h":{"dtype":"${dtype}","shape":[${bits.length}],"data_offsets":[0,${bits.length * 2}]}}`;
    const padding = ' '.repeat((8 - (header.length % 8)) % 8);
    const data = bits.flatMap((value) => [value & 0xff, value >>> 8]);
    return new Uint8Array([
      ...u64LittleEndian(header.length + padding.length),
      ...ascii(header + padding),
      ...data,
    ]);
  };
  const encodedBits = (dtype: 'F16' | 'BF16', values: number[]) => {
    const bytes = encodeSafetensors({ h: { dtype, shape: [values.length], data: new Float32Array(values) } });
    return [...new Uint16Array(bytes.slice(bytes.length - values.length * 2).buffer)];
  };

  it('decodes known F16 bit patterns', () => {
    const bits = [0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00];
    const data = decodeSafetensors(halfFile('F16', bits)).tensors.h.data;
    expect([...data]).toEqual([
      1,
      -2,
      0.333251953125,
      65504,
      2 ** -24,
      -0,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
    ]);
  });

  it('decodes known BF16 bit patterns', () => {
    const bits = [0x3f80, 0xc000, 0x4049, 0x0001, 0x7f80, 0x7fc0];
    const data = decodeSafetensors(halfFile('BF16', bits)).tensors.h.data;
    expect([...data]).toEqual([1, -2, 3.140625, 2 ** -133, Number.POSITIVE_INFINITY, Number.NaN]);
  });

  it('encodes F16 rounding to nearest even, with subnormals, overflow to infinity and NaN', () => {
    const values = [
      1,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      65519,
      65520,
      2 ** -25,
      3 * 2 ** -26,
      1e-10,
      -2,
      Number.NaN,
    ];
    expect(encodedBits('F16', values)).toEqual([
      0x3c00, 0x3c00, 0x3c02, 0x7bff, 0x7c00, 0x0000, 0x0001, 0x0000, 0xc000, 0x7e00,
    ]);
  });

  it('encodes BF16 rounding to nearest even and keeps NaN a NaN', () => {
    const values = [1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -2, Number.NaN];
    expect(encodedBits('BF16', values)).toEqual([0x3f80, 0x3f80, 0x3f82, 0xc000, 0x7fc0]);
  });
});

describe('validation', () => {
  /** A file whose header is `header` verbatim (padded), followed by `dataByteLength` zero bytes. */
  const fileWithHeader = (header: string, dataByteLength = 0) => {
    const encoded = new TextEncoder().encode(header);
    const padded = Math.ceil(encoded.length / 8) * 8;
    const bytes = new Uint8Array(8 + padded + dataByteLength).fill(0x20, 8, 8 + padded);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
    bytes.set(encoded, 8);
    return bytes;
  };
  const readBroken = async (bytes: Uint8Array) => {
    const path = join(directory, 'broken.safetensors');
    await writeFile(path, bytes);
    return readSafetensorsFile(path);
  };

  it.each([
    ['a file shorter than the length field', new Uint8Array([1, 2, 3]), /broken\.safetensors: only 3 bytes/],
    [
      'a header length larger than the file',
      new Uint8Array([...u64LittleEndian(4096), ...ascii('{}      ')]),
      /broken\.safetensors: header length 4096 is larger than the 8 bytes that follow it/,
    ],
    ['invalid JSON', fileWithHeader('{"w": '), /broken\.safetensors: header is not valid UTF-8 JSON/],
    [
      'a header that is not an object',
      fileWithHeader('[1, 2]'),
      /broken\.safetensors: header is not a JSON object/,
    ],
    [
      'non-string metadata',
      fileWithHeader('{"__metadata__":{"step":3}}'),
      /broken\.safetensors: __metadata__ must map strings to strings/,
    ],
    [
      'an unknown dtype',
      fileWithHeader('{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', 8),
      /broken\.safetensors, tensor "w": unknown dtype "F64"/,
    ],
    [
      'offsets out of range',
      fileWithHeader('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 4),
      /broken\.safetensors, tensor "w": data_offsets \[0, 8\] fall outside the data section of 4 bytes/,
    ],
    [
      'reversed offsets',
      fileWithHeader('{"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}', 4),
      /tensor "w": data_offsets \[4, 0\] fall outside/,
    ],
    [
      'overlapping tensors',
      fileWithHeader(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
        12,
      ),
      /broken\.safetensors, tensor "b": data_offsets \[4,12\] overlap those of tensor "a"/,
    ],
    [
      'a data length that does not match the shape',
      fileWithHeader('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}', 12),
      /broken\.safetensors, tensor "w": data is 12 bytes but shape \[2,2\] of F32 needs 16/,
    ],
    [
      'a malformed shape',
      fileWithHeader('{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4),
      /tensor "w": shape \[-1\] is not a list of non-negative integers/,
    ],
  ])('rejects %s, naming the file and the tensor', async (_case, bytes, message) => {
    const error = await readBroken(bytes).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SafetensorsFormatError);
    expect((error as Error).message).toMatch(message);
    expect((error as SafetensorsFormatError).file).toBe(join(directory, 'broken.safetensors'));
    // In-memory decoding applies the same checks.
    expect(() => decodeSafetensors(bytes, { file: 'memory' })).toThrow(SafetensorsFormatError);
  });

  it('rejects tensors that cannot be encoded, naming the tensor', () => {
    const encode =
      (tensor: NamedTensor, tensorName = 'w') =>
      () =>
        encodeSafetensors({ [tensorName]: tensor });
    expect(encode({ dtype: 'F32', shape: [2], data: new Int32Array(2) })).toThrow(
      'tensor "w": dtype F32 needs a Float32Array, got a Int32Array',
    );
    expect(encode({ dtype: 'I32', shape: [2, 2], data: new Int32Array(3) })).toThrow(
      'tensor "w": shape [2,2] does not describe the 3 values of its data',
    );
    expect(encode({ dtype: 'F64' as 'F32', shape: [1], data: new Float32Array(1) })).toThrow(
      'tensor "w": unknown dtype "F64"',
    );
    expect(encode({ dtype: 'U8', shape: [0], data: new Uint8Array(0) }, '__metadata__')).toThrow(
      'is reserved',
    );
  });
});
