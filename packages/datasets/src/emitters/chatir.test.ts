import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadChatIrDialogs, loadChatIrSearchSpace } from '../formats/chatir';
import { CATEGORY_ATTRIBUTES } from '../synthetic/attributes';
import { parseCaption } from '../synthetic/caption';
import { smallWorld } from './__fixtures__/small-world';
import { emitChatIr } from './chatir';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'emit-chatir-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('emitChatIr', () => {
  it('round-trips through the ChatIR loaders without malformed rounds', async () => {
    const world = smallWorld(root);
    const emission = await emitChatIr(world, join(root, 'chatir'));
    const [dialogFile, searchSpaceFile] = emission.files as [string, string];
    const loaded = await loadChatIrDialogs(dialogFile);
    expect(loaded.records).toEqual(emission.dialogs);
    expect(loaded.warnings).toEqual([]);
    expect(await loadChatIrSearchSpace(searchSpaceFile)).toEqual(emission.searchSpace);
    expect(emission.dialogs).toHaveLength(world.test.products.length);
    expect(emission.searchSpace).toHaveLength(world.catalog.length);
  });

  it('captions partially and asks for what the caption left out, answering truthfully', async () => {
    const world = smallWorld(root);
    const byPath = new Map(world.catalog.map((product) => [`../images/${product.id}.png`, product]));
    const emission = await emitChatIr(world, join(root, 'chatir'));
    const searchSpace = new Set(emission.searchSpace);
    for (const dialog of emission.dialogs) {
      const product = byPath.get(dialog.image)!;
      expect(searchSpace.has(dialog.image)).toBe(true);
      expect(dialog.rounds).toHaveLength(10);
      expect(new Set(dialog.rounds.map((round) => round.question)).size).toBe(10);
      const stated = Object.keys(parseCaption(product.category, dialog.caption)).filter(
        // parseCaption reads a caption's silence about the logo as "none".
        (name) => name !== 'logo' || dialog.caption.includes('logo'),
      );
      const attributes = CATEGORY_ATTRIBUTES[product.category];
      expect(stated.length).toBeGreaterThanOrEqual(1);
      expect(stated.length).toBeLessThanOrEqual(2);
      const open = dialog.rounds.slice(0, attributes.length - stated.length);
      for (const round of open) expect(round.answer).not.toMatch(/^(yes|no)$/);
      for (const round of dialog.rounds.slice(open.length)) {
        const asked = round.question.replace(/^(is it|does it have a) /, '').replace(/\?$/, '');
        const value = Object.entries(parseCaption(product.category, asked)).find(
          ([name]) => name !== 'logo' || asked.includes('logo'),
        );
        expect(round.answer).toBe(
          value && product.attributes[value[0] as 'colour'] === value[1] ? 'yes' : 'no',
        );
      }
    }
  });
});
