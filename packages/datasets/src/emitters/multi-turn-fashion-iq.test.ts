import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageList } from '../formats/fashion-iq';
import { loadMultiTurnFashionIq } from '../formats/multi-turn-fashion-iq';
import { smallWorld } from './__fixtures__/small-world';
import { emitMultiTurnFashionIq } from './multi-turn-fashion-iq';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'emit-mt-fashion-iq-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('emitMultiTurnFashionIq', () => {
  it('round-trips through the multi-turn FashionIQ loader, one session per transaction', async () => {
    const world = smallWorld(root);
    const emission = await emitMultiTurnFashionIq(world, join(root, 'mt-fashion-iq'));
    let sessions = 0;
    for (const file of emission.categories) {
      expect(file.sessionsFile).toMatch(new RegExp(`data/${file.category}\\.${file.split}\\.json$`));
      expect((await loadMultiTurnFashionIq(file.sessionsFile)).records).toEqual(file.sessions);
      expect(await loadImageList(file.imageSplitFile)).toEqual(file.images);
      sessions += file.sessions.length;
    }
    expect(sessions).toBe(world.train.transactions.length + world.test.transactions.length);
  });

  it('follows each transaction image by image, with relative picture paths', async () => {
    const world = smallWorld(root);
    const emission = await emitMultiTurnFashionIq(world, join(root, 'mt-fashion-iq'));
    const [transaction] = world.train.transactions;
    const file = emission.categories.find(
      (entry) => entry.split === 'train' && entry.category === transaction!.category,
    )!;
    const [session] = file.sessions;
    expect([...session!.turns.map((turn) => turn.asin), session!.target.asin]).toEqual(
      transaction!.productIds,
    );
    expect(session!.target.imageUrl).toBe(`../images/${transaction!.productIds[3]}.png`);
  });
});
