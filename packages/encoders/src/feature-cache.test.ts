import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EncodedBatch, TextEncoder } from './encoder';
import { FeatureCache } from './feature-cache';

/** A text encoder that counts its inferences: pooled = [length, first char code], tokens = one per character. */
function countingEncoder(id: string): TextEncoder & { calls: number; items: number } {
  const encoder = {
    id,
    dim: 2,
    tokenDim: 1,
    normalized: false,
    calls: 0,
    items: 0,
    async encodeTexts(texts: readonly string[]): Promise<EncodedBatch> {
      encoder.calls++;
      encoder.items += texts.length;
      const tokenCount = 4;
      return {
        count: texts.length,
        dim: 2,
        pooled: Float32Array.from(texts.flatMap((text) => [text.length, text.charCodeAt(0)])),
        tokens: Float32Array.from(texts.flatMap((text) => [0, 1, 2, 3].map((i) => text.charCodeAt(i) || 0))),
        tokenCount,
        tokenDim: 1,
        tokenMask: Uint8Array.from(
          texts.flatMap((text) => [0, 1, 2, 3].map((i) => (i < text.length ? 1 : 0))),
        ),
      };
    },
  };
  return encoder;
}

describe('FeatureCache', () => {
  const texts = ['red', 'blue', 'green', 'pink', 'black'];

  it('encodes in chunks once; a second encode of the same data runs no inference', async () => {
    const cache = new FeatureCache(await mkdtemp(join(tmpdir(), 'cir-cache-')));
    const encoder = countingEncoder('enc-a');
    const first = await cache.texts(encoder, texts, { chunkSize: 2 });
    expect([encoder.calls, encoder.items, first.encodedNow]).toEqual([3, 5, 5]);
    const second = await cache.texts(encoder, texts, { chunkSize: 2 });
    expect([encoder.calls, second.encodedNow]).toEqual([3, 0]);
    expect(Array.from(await second.pooled())).toEqual([3, 114, 4, 98, 5, 103, 4, 112, 5, 98]);
    const rows = await second.rows([4, 0]);
    expect(Array.from(rows.pooled)).toEqual([5, 98, 3, 114]);
    expect(Array.from(rows.tokens)).toEqual([98, 108, 97, 99, 114, 101, 100, 0]);
    expect(Array.from(rows.tokenMask)).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
  });

  it('never reuses features of another encoder or of changed data', async () => {
    const cache = new FeatureCache(await mkdtemp(join(tmpdir(), 'cir-cache-')));
    await cache.texts(countingEncoder('enc-a'), texts);
    const other = countingEncoder('enc-b');
    expect((await cache.texts(other, texts)).encodedNow).toBe(5);
    const changed = countingEncoder('enc-a');
    expect((await cache.texts(changed, [...texts.slice(0, 4), 'white'])).encodedNow).toBe(5);
    expect(await cache.prune(['enc-b'])).toHaveLength(2);
  });

  it('keys image features on the file contents’ size and modification time', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'cir-cache-images-'));
    const image = join(folder, 'a.png');
    await writeFile(image, 'one');
    const calls: number[] = [];
    const encoder = {
      id: 'img',
      dim: 1,
      normalized: false,
      async encodeImages(sources: readonly (string | Uint8Array)[]): Promise<EncodedBatch> {
        calls.push(sources.length);
        return { count: sources.length, dim: 1, pooled: new Float32Array(sources.length) };
      },
    };
    const cache = new FeatureCache(join(folder, 'cache'));
    await cache.images(encoder, [image]);
    await cache.images(encoder, [image]);
    expect(calls).toEqual([1]);
    await writeFile(image, 'longer contents');
    await cache.images(encoder, [image]);
    expect(calls).toEqual([1, 1]);
  });

  it('resumes a killed encode after the last complete chunk', async () => {
    const cache = new FeatureCache(await mkdtemp(join(tmpdir(), 'cir-cache-')));
    const failing = countingEncoder('enc-a');
    const original = failing.encodeTexts;
    failing.encodeTexts = async (batch) => {
      // The second chunk dies: the first one (2 texts) is on disk.
      if (failing.calls === 1) throw new Error('killed');
      return original(batch);
    };
    await expect(cache.texts(failing, texts, { chunkSize: 2 })).rejects.toThrow('killed');
    const resumed = countingEncoder('enc-a');
    const features = await cache.texts(resumed, texts, { chunkSize: 2 });
    expect([resumed.items, features.encodedNow]).toEqual([3, 3]);
    expect((await features.pooled()).length).toBe(10);
  });
});
