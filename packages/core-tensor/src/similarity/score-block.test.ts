import { afterEach, describe, expect, it, vi } from 'vitest';
import { Rng } from '../rng';
import { defaultScorer, javascriptScorer, onnxruntimeScorer } from './score-block';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('block scorers', () => {
  it('onnxruntime and javascript agree within 1e-5 on normalised vectors, including odd shapes', async () => {
    const rng = new Rng(7);
    for (const [queryCount, galleryRows, dim] of [
      [64, 1000, 256],
      [3, 17, 7],
      [1, 1, 1],
    ]) {
      const queries = rng.normalArray(queryCount * dim).map((value) => value / Math.sqrt(dim));
      const gallery = rng.normalArray(galleryRows * dim).map((value) => value / Math.sqrt(dim));
      // A longer output buffer and a gallery view at an offset, as topK passes them.
      const fromOnnxruntime = new Float32Array(queryCount * galleryRows + 5).fill(Number.NaN);
      const fromJavascript = new Float32Array(queryCount * galleryRows);
      const galleryView = new Float32Array(gallery.length + dim);
      galleryView.set(gallery, dim);
      await onnxruntimeScorer().scoreBlock(
        queries,
        queryCount,
        galleryView.subarray(dim),
        galleryRows,
        dim,
        fromOnnxruntime,
      );
      await javascriptScorer.scoreBlock(queries, queryCount, gallery, galleryRows, dim, fromJavascript);
      for (let i = 0; i < fromJavascript.length; i++) {
        expect(Math.abs(fromOnnxruntime[i] - fromJavascript[i])).toBeLessThan(1e-5);
      }
      expect(fromOnnxruntime[queryCount * galleryRows]).toBeNaN();
    }
  });

  it('defaults to onnxruntime here and can be forced to javascript', () => {
    expect(defaultScorer().name).toBe('onnxruntime');
    vi.stubEnv('CIR_TOPK_SCORER', 'javascript');
    expect(defaultScorer()).toBe(javascriptScorer);
    vi.stubEnv('CIR_TOPK_SCORER', 'gpu');
    expect(() => defaultScorer()).toThrow(/not a scorer/);
  });
});
