import { describe, expect, it } from 'vitest';
import { initBackend } from './backend';

describe('initBackend', () => {
  it('picks the fastest backend that can start and says why faster ones were skipped', async () => {
    const info = await initBackend();
    const forced = process.env.CIR_BACKEND;
    if (forced && forced !== 'auto') {
      expect(info.forced).toBe(true);
      return;
    }
    // This machine has no libtensorflow: wasm with SIMD is expected, with the native packages explained.
    if (info.name === 'wasm') {
      expect(info.simd).toBe(true);
      expect(info.skipped.map((skip) => skip.name)).toEqual(['tensorflow-gpu', 'tensorflow']);
      expect(info.skipped[0]!.reason).toMatch(/tfjs-node-gpu/);
    }
    expect(await initBackend()).toBe(info);
  });
});
