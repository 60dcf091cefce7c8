import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadMultiTurnFashionIq } from './multi-turn-fashion-iq';

const file = fileURLToPath(new URL('./__fixtures__/mt-fashion-iq/data/dress.val.json', import.meta.url));

describe('loadMultiTurnFashionIq', () => {
  it('throws on a session without turns, naming file and record', async () => {
    await expect(loadMultiTurnFashionIq(file)).rejects.toThrow(
      `${file} record 2: "reference" must be a non-empty array of turns`,
    );
  });

  it('maps target and turns', async () => {
    const [session] = (await loadMultiTurnFashionIq(file, { mode: 'skip' })).records;
    expect(session).toEqual({
      target: { imageUrl: 'http://example.com/t1.jpg', asin: 'B0TARGET01' },
      turns: [
        { imageUrl: 'http://example.com/r1.jpg', captions: ['is red', 'is long'], asin: 'B0REFERE01' },
        { imageUrl: 'http://example.com/r2.jpg', captions: ['is darker', 'has sleeves'], asin: 'B0REFERE02' },
      ],
    });
  });

  it('keeps turns with one or three captions as a pair, with a warning', async () => {
    const result = await loadMultiTurnFashionIq(file, { mode: 'skip' });
    expect(result.records[1].turns.map((turn) => turn.captions)).toEqual([
      ['has no belt', 'has sleeves'],
      ['is tighter', ''],
    ]);
    expect(result.warnings.map((issue) => [issue.location, issue.message])).toEqual([
      [{ record: 1 }, 'turn 0 has 3 captions instead of 2; kept ["has no belt","has sleeves"]'],
      [{ record: 1 }, 'turn 1 has 1 caption instead of 2; kept ["is tighter"]'],
    ]);
    expect(result.invalid.map((issue) => [issue.location, issue.message])).toEqual([
      [{ record: 2 }, '"reference" must be a non-empty array of turns'],
      [{ record: 3 }, 'reference turn 0 has 3 non-empty captions, expected 1 or 2'],
    ]);
  });
});
