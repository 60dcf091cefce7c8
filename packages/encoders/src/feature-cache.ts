import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensorsFile, writeJsonAtomic, writeSafetensorsFile } from '@cir/core-tensor';
import type { EncodedBatch, ImageEncoder, TextEncoder } from './encoder';

/** Features of one data set under one encoder, stored in chunks and read lazily. */
export interface CachedFeatures {
  encoderId: string;
  count: number;
  dim: number;
  tokenCount: number;
  tokenDim: number;
  chunkSize: number;
  /** Items encoded by this call (0 when everything came from disk). */
  encodedNow: number;
  /** All pooled embeddings `[count, dim]`. */
  pooled(): Promise<Float32Array>;
  /** Pooled embeddings and tokens of the given rows: `[rows, dim]`, `[rows, tokenCount, tokenDim]`, mask `[rows, tokenCount]`. */
  rows(
    indices: readonly number[],
  ): Promise<{ pooled: Float32Array; tokens: Float32Array; tokenMask: Uint8Array }>;
}

interface Manifest {
  format: 'cir-feature-cache';
  version: 1;
  encoderId: string;
  kind: 'image' | 'text';
  count: number;
  dim: number;
  tokenCount: number;
  tokenDim: number;
  chunkSize: number;
  /** Chunks written so far; a killed encode resumes after the last one. */
  chunksDone: number;
}

export interface FeatureCacheOptions {
  /** Items per chunk file (default 1,024). */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * An on-disk cache of encoder outputs, keyed by the encoder's identity and the exact items (image paths with their
 * size and modification time, or the texts), so a second encode of the same data runs no model inference, and a
 * different encoder or a changed image never reuses stale features.
 */
export class FeatureCache {
  constructor(readonly directory: string) {}

  /** Image features; image files are identified by path, size and modification time. */
  async images(
    encoder: ImageEncoder,
    paths: readonly string[],
    options: FeatureCacheOptions = {},
  ): Promise<CachedFeatures> {
    const identities = await Promise.all(
      paths.map(async (path) => {
        const info = await stat(path);
        return `${path}\u0000${info.size}\u0000${info.mtimeMs}`;
      }),
    );
    return this.features('image', encoder.id, identities, options, (start, end) =>
      encoder.encodeImages(paths.slice(start, end)),
    );
  }

  /** Text features. */
  async texts(
    encoder: TextEncoder,
    texts: readonly string[],
    options: FeatureCacheOptions = {},
  ): Promise<CachedFeatures> {
    return this.features('text', encoder.id, texts, options, (start, end) =>
      encoder.encodeTexts(texts.slice(start, end)),
    );
  }

  /** Removes every cached data set that was not made by one of `keepEncoderIds`; returns the removed folders. */
  async prune(keepEncoderIds: readonly string[]): Promise<string[]> {
    if (!existsSync(this.directory)) return [];
    const removed: string[] = [];
    for (const entry of await readdir(this.directory)) {
      const manifestFile = join(this.directory, entry, 'manifest.json');
      const manifest = existsSync(manifestFile)
        ? (JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest)
        : undefined;
      if (!manifest || !keepEncoderIds.includes(manifest.encoderId)) {
        await rm(join(this.directory, entry), { recursive: true, force: true });
        removed.push(entry);
      }
    }
    return removed;
  }

  private async features(
    kind: 'image' | 'text',
    encoderId: string,
    identities: readonly string[],
    options: FeatureCacheOptions,
    encode: (start: number, end: number) => Promise<EncodedBatch>,
  ): Promise<CachedFeatures> {
    const chunkSize = options.chunkSize ?? 1024;
    const key = createHash('sha256')
      .update(`${encoderId}\u0001${kind}\u0001${chunkSize}\u0001`)
      .update(identities.join('\u0002'))
      .digest('hex');
    const folder = join(this.directory, `${kind}-${key.slice(0, 32)}`);
    const manifestFile = join(folder, 'manifest.json');
    await mkdir(folder, { recursive: true });
    let manifest: Manifest | undefined = existsSync(manifestFile)
      ? (JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest)
      : undefined;
    const count = identities.length;
    const chunks = Math.ceil(count / chunkSize);
    let encodedNow = 0;
    for (let chunk = manifest?.chunksDone ?? 0; chunk < chunks; chunk++) {
      const start = chunk * chunkSize;
      const end = Math.min(count, start + chunkSize);
      const batch = await encode(start, end);
      encodedNow += end - start;
      const tensors: Record<
        string,
        { dtype: 'F32' | 'U8'; shape: number[]; data: Float32Array | Uint8Array }
      > = {
        pooled: { dtype: 'F32', shape: [batch.count, batch.dim], data: batch.pooled },
      };
      if (batch.tokens) {
        tensors.tokens = {
          dtype: 'F32',
          shape: [batch.count, batch.tokenCount!, batch.tokenDim!],
          data: batch.tokens,
        };
      }
      if (batch.tokenMask)
        tensors.token_mask = { dtype: 'U8', shape: [batch.count, batch.tokenCount!], data: batch.tokenMask };
      await writeSafetensorsFile(join(folder, chunkName(chunk)), tensors, { encoderId });
      manifest = {
        format: 'cir-feature-cache',
        version: 1,
        encoderId,
        kind,
        count,
        dim: batch.dim,
        tokenCount: batch.tokenCount ?? 0,
        tokenDim: batch.tokenDim ?? 0,
        chunkSize,
        chunksDone: chunk + 1,
      };
      await writeJsonAtomic(manifestFile, manifest);
      options.onProgress?.(end, count);
    }
    if (!manifest) {
      manifest = {
        format: 'cir-feature-cache',
        version: 1,
        encoderId,
        kind,
        count: 0,
        dim: 0,
        tokenCount: 0,
        tokenDim: 0,
        chunkSize,
        chunksDone: 0,
      };
    }
    if (manifest.encoderId !== encoderId) {
      throw new Error(`${manifestFile}: made by encoder "${manifest.encoderId}", expected "${encoderId}"`);
    }
    return cachedFeatures(folder, manifest, encodedNow);
  }
}

function chunkName(chunk: number): string {
  return `chunk-${String(chunk).padStart(5, '0')}.safetensors`;
}

function cachedFeatures(folder: string, manifest: Manifest, encodedNow: number): CachedFeatures {
  const { count, dim, tokenCount, tokenDim, chunkSize } = manifest;
  const readChunk = async (chunk: number) =>
    (await readSafetensorsFile(join(folder, chunkName(chunk)))).tensors;
  return {
    encoderId: manifest.encoderId,
    count,
    dim,
    tokenCount,
    tokenDim,
    chunkSize,
    encodedNow,
    async pooled() {
      const all = new Float32Array(count * dim);
      for (let chunk = 0; chunk * chunkSize < count; chunk++) {
        const tensors = await readSafetensorsFile(join(folder, chunkName(chunk)), { names: ['pooled'] });
        all.set(tensors.tensors.pooled!.data as Float32Array, chunk * chunkSize * dim);
      }
      return all;
    },
    async rows(indices) {
      const pooled = new Float32Array(indices.length * dim);
      const tokens = new Float32Array(indices.length * tokenCount * tokenDim);
      const tokenMask = new Uint8Array(indices.length * tokenCount).fill(1);
      const byChunk = new Map<number, number[]>();
      indices.forEach((row, position) => {
        if (row < 0 || row >= count) throw new RangeError(`feature row ${row} is outside 0…${count - 1}`);
        const list = byChunk.get(Math.floor(row / chunkSize)) ?? [];
        list.push(position);
        byChunk.set(Math.floor(row / chunkSize), list);
      });
      for (const [chunk, positions] of byChunk) {
        const tensors = await readChunk(chunk);
        for (const position of positions) {
          const local = indices[position]! - chunk * chunkSize;
          pooled.set(
            (tensors.pooled!.data as Float32Array).subarray(local * dim, (local + 1) * dim),
            position * dim,
          );
          if (tensors.tokens) {
            const width = tokenCount * tokenDim;
            tokens.set(
              (tensors.tokens.data as Float32Array).subarray(local * width, (local + 1) * width),
              position * width,
            );
          }
          if (tensors.token_mask) {
            tokenMask.set(
              (tensors.token_mask.data as Uint8Array).subarray(local * tokenCount, (local + 1) * tokenCount),
              position * tokenCount,
            );
          }
        }
      }
      return { pooled, tokens, tokenMask };
    },
  };
}
