import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import onnxProto from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import { innerProductMatrix } from './inner-product';

/**
 * Fills `out` [queryCount, galleryRows] with the inner products of `queries` [queryCount, dim] and `galleryBlock`
 * [galleryRows, dim]. `out` may be longer than needed; only its first queryCount × galleryRows values are written.
 */
export type ScoreBlockFn = (
  queries: Float32Array,
  queryCount: number,
  galleryBlock: Float32Array,
  galleryRows: number,
  dim: number,
  out: Float32Array,
) => void | Promise<void>;

/**
 * Fills `outScores` / `outIndices` [queryCount, k] with each query's k best rows of `galleryBlock` [galleryRows, dim]
 * (block-local indices), by descending score with ties to the lower index. k ≤ galleryRows.
 */
export type TopKBlockFn = (
  queries: Float32Array,
  queryCount: number,
  galleryBlock: Float32Array,
  galleryRows: number,
  dim: number,
  k: number,
  outScores: Float32Array,
  outIndices: Int32Array,
) => Promise<void>;

export interface BlockScorer {
  name: 'onnxruntime' | 'javascript';
  /** Threads the scorer computes with. */
  threads: number;
  scoreBlock: ScoreBlockFn;
  /** Scores and selects a block in one native call, so that selection runs multi-threaded too (optional). */
  topKBlock?: TopKBlockFn;
  /** Why onnxruntime was not chosen, when the default fell back to javascript. */
  fallbackReason?: string;
}

/** Plain typed-array scorer: portable, ~1–2 GFLOP/s, one thread. */
export const javascriptScorer: BlockScorer = {
  name: 'javascript',
  threads: 1,
  scoreBlock: (queries, queryCount, galleryBlock, galleryRows, dim, out) => {
    innerProductMatrix(queries, queryCount, galleryBlock, galleryRows, dim, out);
  },
};

type OnnxruntimeModule = typeof Ort;

// A lazy require, so that a platform without the native binding still gets the javascript scorer.
const require = createRequire(import.meta.url);
let onnxruntimeLoad: { module: OnnxruntimeModule } | { problem: string } | undefined;
const sessions = new Map<string, Promise<Ort.InferenceSession>>();

function loadOnnxruntime(): OnnxruntimeModule {
  if (!onnxruntimeLoad) {
    try {
      onnxruntimeLoad = { module: require('onnxruntime-node') as OnnxruntimeModule };
    } catch (error) {
      onnxruntimeLoad = { problem: error instanceof Error ? error.message.split('\n')[0] : String(error) };
    }
  }
  if ('problem' in onnxruntimeLoad)
    throw new Error(`onnxruntime-node cannot load: ${onnxruntimeLoad.problem}`);
  return onnxruntimeLoad.module;
}

/**
 * A one-node ONNX graph, scores = Gemm(queries [queryCount, dim], gallery [galleryRows, dim], transB=1), with every
 * dimension free so that one session serves all shapes.
 */
function innerProductModel(withTopK: boolean): Uint8Array {
  const { onnx } = onnxProto;
  const matrix = (name: string, rows: string, columns: string): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: rows }, { dimParam: columns }] },
      },
    },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: '@cir/core-tensor',
    graph: {
      name: 'inner-product-block',
      node: [
        {
          opType: 'Gemm',
          input: ['queries', 'gallery'],
          output: ['scores'],
          attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
        },
        // ONNX TopK: largest first, and equal values keep the lower index first — the order topK needs.
        ...(withTopK
          ? [
              {
                opType: 'TopK',
                input: ['scores', 'k'],
                output: ['topScores', 'topIndices'],
                attribute: [
                  { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 },
                  { name: 'largest', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
                  { name: 'sorted', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
                ],
              },
            ]
          : []),
      ],
      input: [
        matrix('queries', 'queryCount', 'dim'),
        matrix('gallery', 'galleryRows', 'dim'),
        ...(withTopK
          ? [
              {
                name: 'k',
                type: {
                  tensorType: {
                    elemType: onnx.TensorProto.DataType.INT64,
                    shape: { dim: [{ dimValue: 1 }] },
                  },
                },
              },
            ]
          : []),
      ],
      output: withTopK
        ? [
            matrix('topScores', 'queryCount', 'k'),
            {
              name: 'topIndices',
              type: {
                tensorType: {
                  elemType: onnx.TensorProto.DataType.INT64,
                  shape: { dim: [{ dimParam: 'queryCount' }, { dimParam: 'k' }] },
                },
              },
            },
          ]
        : [matrix('scores', 'queryCount', 'galleryRows')],
    },
  }).finish();
}

/**
 * The onnxruntime-node CPU scorer (MLAS sgemm, ~60–70 GFLOP/s per core here). Its session is created on first use and
 * kept for the process, one per thread count. Throws when onnxruntime-node cannot load.
 */
export function onnxruntimeScorer(threads = availableParallelism()): BlockScorer {
  const ort = loadOnnxruntime();
  const session = (withTopK = false): Promise<Ort.InferenceSession> => {
    const key = `${threads}:${withTopK}`;
    let created = sessions.get(key);
    if (!created) {
      created = ort.InferenceSession.create(innerProductModel(withTopK), {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        // Idle pool threads sleep instead of spinning: spinning after every search took the cores that the
        // work between searches (a server's model, another request) needs; measured ×3 slower turns.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      created.catch(() => sessions.delete(key));
      sessions.set(key, created);
    }
    return created;
  };
  return {
    name: 'onnxruntime',
    threads,
    scoreBlock: async (queries, queryCount, galleryBlock, galleryRows, dim, out) => {
      // The binding wraps input typed arrays without copying and writes into a preallocated output in place, so a
      // block costs no allocation or copy beyond the sgemm itself.
      await (await session()).run(
        {
          queries: new ort.Tensor('float32', queries.subarray(0, queryCount * dim), [queryCount, dim]),
          gallery: new ort.Tensor('float32', galleryBlock.subarray(0, galleryRows * dim), [galleryRows, dim]),
        },
        {
          scores: new ort.Tensor('float32', out.subarray(0, queryCount * galleryRows), [
            queryCount,
            galleryRows,
          ]),
        },
      );
    },
    topKBlock: async (queries, queryCount, galleryBlock, galleryRows, dim, k, outScores, outIndices) => {
      const outputs = await (await session(true)).run({
        queries: new ort.Tensor('float32', queries.subarray(0, queryCount * dim), [queryCount, dim]),
        gallery: new ort.Tensor('float32', galleryBlock.subarray(0, galleryRows * dim), [galleryRows, dim]),
        k: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]),
      });
      outScores.set(outputs.topScores!.data as Float32Array);
      const indices = outputs.topIndices!.data as BigInt64Array;
      for (let i = 0; i < queryCount * k; i++) outIndices[i] = Number(indices[i]);
    },
  };
}

/**
 * The scorer topK uses by default: onnxruntime when it loads, else javascript (with `fallbackReason`).
 * CIR_TOPK_SCORER=onnxruntime|javascript forces one; a forced onnxruntime that cannot load is an error.
 */
export function defaultScorer(): BlockScorer {
  const requested = process.env.CIR_TOPK_SCORER ?? 'auto';
  if (requested === 'javascript') return javascriptScorer;
  if (requested === 'onnxruntime') return onnxruntimeScorer();
  if (requested !== 'auto' && requested !== '') {
    throw new Error(`CIR_TOPK_SCORER="${requested}" is not a scorer. Use onnxruntime, javascript or auto.`);
  }
  try {
    return onnxruntimeScorer();
  } catch (error) {
    return { ...javascriptScorer, fallbackReason: error instanceof Error ? error.message : String(error) };
  }
}
