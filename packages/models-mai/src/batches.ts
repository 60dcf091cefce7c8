import { tf } from '@cir/core-tensor';
import type { MaiConfig } from './config';
import type { Session } from './fashion-mt-data';
import { type MaiFeatures, selectRows, type TokenFeatures } from './features';
import type { TokenInput } from './mai-model';
import { readTurnIntent } from './retrospective-text';

/** Tensors of a batch of sessions, all of the same number of turns T. */
export interface SessionBatch {
  batch: number;
  turns: number;
  /** Every turn image and its caption, session-major: row s·(T+1) + t. `[batch·(T+1), …]` */
  images: TokenInput;
  captions: TokenInput;
  /** Text of each turn (rollback prefix removed), row s·T + t. `[batch·T, …]` */
  texts: TokenInput;
  /** Per turn, for each session, the row (in `images`) of that turn's reference image: `[T][batch]`. */
  referenceRows: Int32Array[];
  /** Per turn, 1 for sessions whose text is a combination request: `[T][batch]`. */
  combination: Float32Array[];
}

/** Cuts token arrays to the longest real text of the batch, so padding costs no compute. */
function trimmed(features: TokenFeatures, limit: number): TokenInput {
  const { count, tokenCount, tokenDim } = features;
  let longest = 1;
  for (let row = 0; row < count; row++) {
    for (let token = tokenCount - 1; token >= longest; token--) {
      if (features.mask[row * tokenCount + token]) {
        longest = token + 1;
        break;
      }
    }
  }
  const length = Math.min(longest, limit, tokenCount);
  const tokens = new Float32Array(count * length * tokenDim);
  const mask = new Float32Array(count * length);
  for (let row = 0; row < count; row++) {
    tokens.set(
      features.tokens.subarray(row * tokenCount * tokenDim, (row * tokenCount + length) * tokenDim),
      row * length * tokenDim,
    );
    for (let token = 0; token < length; token++)
      mask[row * length + token] = features.mask[row * tokenCount + token]!;
  }
  return { tokens: tf.tensor3d(tokens, [count, length, tokenDim]), mask: tf.tensor2d(mask, [count, length]) };
}

/**
 * Builds the input tensors of a batch of sessions. `options.rollback` makes a rollback turn's reference the
 * rolled-back image (MAI's "Replace"); `options.lastTurnOnly` keeps the raw text (the baseline does not read the
 * rollback template).
 */
export async function buildSessionBatch(
  sessions: readonly Session[],
  features: MaiFeatures,
  config: Pick<MaiConfig, 'rollback' | 'combination' | 'maxTextTokens'>,
): Promise<SessionBatch> {
  const batch = sessions.length;
  const turns = sessions[0]!.texts.length;
  const imageRows = sessions.flatMap((session) => session.images);
  const intents = sessions.map((session) =>
    session.texts.map((text, turn) => readTurnIntent(text, turn + 1)),
  );
  const texts = await features.textFeatures(
    sessions.flatMap((session, index) =>
      session.texts.map((text, turn) => (config.rollback ? intents[index]![turn]!.text : text)),
    ),
  );
  const images = selectRows(features.images, imageRows);
  const referenceRows = Array.from({ length: turns }, (_value, turn) =>
    Int32Array.from(sessions, (_session, index) => {
      const rollbackTo = intents[index]![turn]!.rollbackTo;
      const position = config.rollback && rollbackTo !== undefined && rollbackTo < turn ? rollbackTo : turn;
      return index * (turns + 1) + position;
    }),
  );
  const combination = Array.from({ length: turns }, (_value, turn) =>
    Float32Array.from(sessions, (_session, index) =>
      config.combination && intents[index]![turn]!.combination ? 1 : 0,
    ),
  );
  return {
    batch,
    turns,
    images: { tokens: tf.tensor3d(images.tokens, [images.count, images.tokenCount, images.tokenDim]) },
    captions: trimmed(selectRows(features.captions, imageRows), config.maxTextTokens),
    texts: trimmed(texts, config.maxTextTokens),
    referenceRows,
    combination,
  };
}

/** Disposes the tensors of a batch. */
export function disposeSessionBatch(batch: SessionBatch): void {
  tf.dispose([
    batch.images.tokens,
    batch.captions.tokens,
    batch.captions.mask!,
    batch.texts.tokens,
    batch.texts.mask!,
  ]);
}
