import { l2Normalize, tf } from '@cir/core-tensor';
import type { FashionMtTransaction } from '@cir/datasets';
import { evaluateFashionMt, type FashionMtResult } from '@cir/eval';
import { buildSessionBatch, disposeSessionBatch } from './batches';
import type { FashionMtData, Session } from './fashion-mt-data';
import { type MaiFeatures, selectRows } from './features';
import type { MaiModel } from './mai-model';
import { NativeGalleryEncoder } from './native-gallery-encoder';
import { NativeSessionQueries } from './native-session-queries';
import { forwardSessions } from './session-forward';

/** Gallery-side embeddings f_t of every gallery image: `[galleryCount, embedDim]`. */
export async function galleryEmbeddings(
  model: MaiModel,
  features: MaiFeatures,
  batchSize = 256,
): Promise<Float32Array> {
  const count = features.images.count;
  const out = new Float32Array(count * model.config.embedDim);
  // onnxruntime graphs when they load (the same values, ~2.7× faster), else the tfjs model.
  const native = NativeGalleryEncoder.available() ? new NativeGalleryEncoder(model) : undefined;
  for (let start = 0; start < count; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, count - start) }, (_value, index) => start + index);
    const images = selectRows(features.images, rows);
    const captions = selectRows(features.captions, rows);
    if (native) {
      const { embeddings } = native.encode({
        count: rows.length,
        images: images.tokens,
        imageTokens: images.tokenCount,
        captions: captions.tokens,
        captionMask: captions.mask,
        captionTokens: captions.tokenCount,
      });
      out.set(embeddings, start * model.config.embedDim);
      continue;
    }
    const embedding = tf.tidy(() =>
      model.targetEmbedding(
        model.bimodalAggregation(
          { tokens: tf.tensor3d(images.tokens, [rows.length, images.tokenCount, images.tokenDim]) },
          {
            tokens: tf.tensor3d(captions.tokens, [rows.length, captions.tokenCount, captions.tokenDim]),
            mask: tf.tensor2d(Float32Array.from(captions.mask), [rows.length, captions.tokenCount]),
          },
        ),
      ),
    );
    out.set(await embedding.data(), start * model.config.embedDim);
    embedding.dispose();
  }
  return out;
}

/** Composed query of each session after its last turn: `[sessions, embedDim]`. */
export async function sessionQueries(
  model: MaiModel,
  features: MaiFeatures,
  sessions: readonly Session[],
  batchSize = 128,
): Promise<Float32Array> {
  const out = new Float32Array(sessions.length * model.config.embedDim);
  // On arrays and onnxruntime graphs when the model and the machine allow it (the same queries, ~3× faster).
  const native = NativeSessionQueries.supports(model) ? new NativeSessionQueries(model) : undefined;
  for (let start = 0; start < sessions.length; start += batchSize) {
    const batch = await buildSessionBatch(sessions.slice(start, start + batchSize), features, model.config);
    if (native) {
      out.set(native.finalQueries(batch), start * model.config.embedDim);
      disposeSessionBatch(batch);
      continue;
    }
    const query = tf.tidy(
      () => forwardSessions(model, batch, { textBranch: false }).turns.at(-1)!.fusedQuery,
    );
    out.set(await query.data(), start * model.config.embedDim);
    query.dispose();
    disposeSessionBatch(batch);
  }
  return out;
}

/** Scores final-turn queries `[sessions, dim]` against a gallery `[galleryCount, dim]` with the FashionMT protocol. */
export async function scoreFashionMt(
  data: FashionMtData,
  sessions: readonly Session[],
  queries: Float32Array,
  gallery: Float32Array,
  dim: number,
): Promise<FashionMtResult> {
  const name = (row: number) => data.galleryPaths[row]!;
  const transactions: FashionMtTransaction[] = sessions.map((session) => {
    const [ref, tar1, tar2, tar3] = session.images.map(name) as [string, string, string, string];
    const [mod1, mod2, mod3] = session.texts as [string, string, string];
    return { ref, tar1, tar2, tar3, mod1, mod2, mod3, cap0: '', cap1: '', cap2: '', cap3: '' };
  });
  return evaluateFashionMt(
    transactions,
    sessions.map((session) => session.kind),
    { queries, gallery, dim, galleryNames: data.galleryPaths },
  );
}

/** Evaluates a trained MAI model (or a trained baseline) on the test sessions. */
export async function evaluateMaiModel(
  model: MaiModel,
  features: MaiFeatures,
  data: FashionMtData,
): Promise<FashionMtResult> {
  const gallery = await galleryEmbeddings(model, features);
  const queries = await sessionQueries(model, features, data.test);
  return scoreFashionMt(data, data.test, queries, gallery, model.config.embedDim);
}

/**
 * The zero-shot baselines on frozen encoder embeddings: text-only (the last text), image-only (the last reference
 * image), and sum fusion normalize(image + text) (CLIP4Cir's "sum").
 */
export async function evaluateZeroShotBaselines(
  features: MaiFeatures,
  data: FashionMtData,
): Promise<{ 'text-only': FashionMtResult; 'image-only': FashionMtResult; sum: FashionMtResult }> {
  const sessions = data.test;
  const dim = features.images.dim;
  const gallery = l2Normalize(features.images.pooled, features.images.count, dim);
  const lastReference = selectRows(
    features.images,
    sessions.map((session) => session.images.at(-2)!),
  );
  const lastText = await features.textFeatures(sessions.map((session) => session.texts.at(-1)!));
  const imageQueries = l2Normalize(lastReference.pooled, sessions.length, dim);
  const textQueries = l2Normalize(lastText.pooled, sessions.length, dim);
  const sum = imageQueries.map((value, index) => value + textQueries[index]!);
  return {
    'text-only': await scoreFashionMt(data, sessions, textQueries, gallery, dim),
    'image-only': await scoreFashionMt(data, sessions, imageQueries, gallery, dim),
    sum: await scoreFashionMt(data, sessions, l2Normalize(sum, sessions.length, dim), gallery, dim),
  };
}
