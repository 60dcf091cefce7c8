import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  type FashionMtKind,
  fashionMtKind,
  loadFashionMtTransactions,
  loadImageCaptionPairs,
  loadIndexNames,
} from '@cir/datasets';

/** A FashionMT transaction as gallery rows: images[0] is the first reference, images[turns] the final target. */
export interface Session {
  /** Gallery rows of the turn images: `[turns + 1]`. */
  images: number[];
  /** The modification text of each turn: `[turns]`. */
  texts: string[];
  kind: FashionMtKind;
}

export interface FashionMtData {
  /** Absolute image paths of the gallery (the sub-dataset's `*_index_names.txt`), in file order. */
  galleryPaths: string[];
  /** Caption of each gallery image (the target side fuses image and caption). */
  galleryCaptions: string[];
  train: Session[];
  test: Session[];
  /** Files read, for messages. */
  files: { train: string; test: string; index: string; captions: string };
}

/** Finds `<dir>/**\/*_<split>_cap.json` in the folder or its `modifiers/` subfolder. */
function findCaptionsFile(directory: string, split: string): string {
  for (const folder of [join(directory, 'modifiers'), directory]) {
    if (!existsSync(folder)) continue;
    const match = readdirSync(folder).find((file) => file.endsWith(`_${split}_cap.json`));
    if (match) return join(folder, match);
  }
  throw new Error(`no *_${split}_cap.json in ${directory} or ${join(directory, 'modifiers')}`);
}

/**
 * Reads FashionMT-format data: a world folder from `cir data generate` (its `fashionmt/` subfolder and
 * `captions.jsonl`) or a FashionMT folder with `modifiers/` plus a captions file (`captionsFile`) giving a caption
 * for every gallery image.
 */
export async function loadFashionMtData(
  directory: string,
  options: { captionsFile?: string } = {},
): Promise<FashionMtData> {
  const root = resolve(directory);
  const fashionMt = existsSync(join(root, 'fashionmt')) ? join(root, 'fashionmt') : root;
  const train = findCaptionsFile(fashionMt, 'train');
  const test = findCaptionsFile(fashionMt, 'test');
  const index = train.replace(/_train_cap\.json$/, '_index_names.txt');
  const captions = options.captionsFile ?? join(root, 'captions.jsonl');
  if (!existsSync(captions)) {
    throw new Error(
      `${captions} not found: MAI needs a caption for every gallery image (an image-caption pairs file)`,
    );
  }
  // Image fields are relative to the FashionMT folder, as the emitter writes them.
  const absolute = (path: string) => resolve(fashionMt, path);
  const galleryPaths = (await loadIndexNames(index)).map(absolute);
  const row = new Map(galleryPaths.map((path, position) => [path, position]));
  const captionOf = new Map(
    (await loadImageCaptionPairs(captions)).records.map((pair) => [
      resolve(dirname(captions), pair.image),
      pair.caption,
    ]),
  );
  const galleryCaptions = galleryPaths.map((path) => {
    const caption = captionOf.get(path);
    if (caption === undefined) throw new Error(`${captions}: no caption for gallery image ${path}`);
    return caption;
  });
  const sessions = async (file: string): Promise<Session[]> =>
    (await loadFashionMtTransactions(file)).records.map((transaction, record) => {
      const images = [transaction.ref, transaction.tar1, transaction.tar2, transaction.tar3].map((path) => {
        const position = row.get(absolute(path));
        if (position === undefined)
          throw new Error(`${file} record ${record}: image ${path} is not in ${index}`);
        return position;
      });
      return {
        images,
        texts: [transaction.mod1, transaction.mod2, transaction.mod3],
        kind: fashionMtKind(transaction),
      };
    });
  return {
    galleryPaths,
    galleryCaptions,
    train: await sessions(train),
    test: await sessions(test),
    files: { train, test, index, captions },
  };
}
