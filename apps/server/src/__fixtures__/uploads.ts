import { crc32 } from 'node:zlib';
import { encodePng } from '@cir/datasets';

export interface UploadFile {
  name: string;
  bytes: Uint8Array;
  type?: string;
}

/** A multipart/form-data body as a browser's FormData would send it, ready for `app.inject`. */
export async function multipart(
  files: readonly UploadFile[],
  fields: Record<string, string> = {},
): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files) {
    form.append('files', new Blob([file.bytes], { type: file.type ?? 'image/png' }), file.name);
  }
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return {
    payload: Buffer.from(await request.arrayBuffer()),
    headers: { 'content-type': request.headers.get('content-type')! },
  };
}

/** A small PNG of one colour. */
export async function solidPng(size: number, rgb: readonly [number, number, number]): Promise<Uint8Array> {
  const pixels = new Uint8Array(size * size * 3);
  for (let pixel = 0; pixel < size * size; pixel++) pixels.set(rgb, pixel * 3);
  return encodePng(pixels, size, size);
}

/**
 * A few hundred bytes whose PNG header claims `width × height` pixels: decoding it would allocate gigabytes, so
 * only a check of the header before decoding can refuse it in time.
 */
export function pngBomb(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
