import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { linePlotSvg, writeLinePlotPng } from './plots';

describe('plots', () => {
  it('draws a line per series with the axis titles', async () => {
    const svg = await linePlotSvg(
      [
        { name: 'text only', values: [40, 45, 47] },
        { name: 'DAR', values: [42, 50, 56] },
      ],
      { yTitle: 'Hits@10 (%)' },
    );
    expect(svg).toContain('Hits@10 (%)');
    expect(svg).toContain('DAR');
    expect(svg.match(/<path[^>]*stroke="#[0-9a-f]{6}"/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });

  it('writes a PNG that decodes', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cir-plot-')), 'hits.png');
    await writeLinePlotPng(file, [{ name: 'a', values: [1, 2, 3] }]);
    const metadata = await sharp(file).metadata();
    expect(metadata.format).toBe('png');
    expect(metadata.width).toBeGreaterThan(300);
  });
});
