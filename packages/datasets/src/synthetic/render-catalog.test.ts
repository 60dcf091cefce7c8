import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../images/image-io';
import { generateCatalog } from './catalog';
import { renderCatalog } from './render-catalog';
import { renderProductPng } from './renderer';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'render-catalog-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('renderCatalog', () => {
  it('writes images/<id>.png per product and returns the relative paths in order', async () => {
    const products = generateCatalog({ count: 10, seed: 1 });
    const outDir = join(directory, 'small');
    const progress: [number, number][] = [];
    const paths = await renderCatalog(products, {
      outDir,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(paths).toEqual(products.map((product) => `images/${product.id}.png`));
    expect((await readdir(join(outDir, 'images'))).sort()).toEqual(
      products.map((product) => `${product.id}.png`).sort(),
    );
    expect(progress).toEqual(products.map((_, index) => [index + 1, products.length]));
    const image = await decodeImage(join(outDir, paths[0]!));
    expect([image.width, image.height]).toEqual([64, 64]);
  });

  // Products share rasterized sheets, so this also checks that a product's pixels do not depend on where it lands.
  it('writes the same bytes as renderProductPng, whatever the concurrency and the size', async () => {
    const products = generateCatalog({ count: 100, seed: 2 });
    for (const size of [64, 40]) {
      const singles = await Promise.all(products.map((product) => renderProductPng(product, { size })));
      for (const concurrency of [1, 3]) {
        const outDir = join(directory, `size-${size}-concurrency-${concurrency}`);
        const paths = await renderCatalog(products, { outDir, size, concurrency });
        const written = await Promise.all(paths.map((path) => readFile(join(outDir, path))));
        written.forEach((bytes, index) => {
          expect(new Uint8Array(bytes), products[index]!.id).toEqual(new Uint8Array(singles[index]!));
        });
      }
    }
  });

  it('never leaves a partial file under a final name or a temporary file behind', async () => {
    // Enough pictures that many writes are still running when one fails: the call must wait for them.
    const products = generateCatalog({ count: 200, seed: 3 });
    const outDir = join(directory, 'blocked');
    // A directory in the way makes the rename of the second picture fail after its bytes were written.
    await mkdir(join(outDir, 'images', `${products[1]!.id}.png`), { recursive: true });
    await expect(renderCatalog(products, { outDir, concurrency: 2 })).rejects.toThrow();
    const names = await readdir(join(outDir, 'images'));
    expect(names.filter((name) => name.includes('.tmp-'))).toEqual([]);
    // Nothing was still being written when the call failed: the folder stays as the caller found it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await readdir(join(outDir, 'images'))).sort()).toEqual(names.sort());
  });
});
