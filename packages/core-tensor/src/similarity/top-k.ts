import { type BlockScorer, defaultScorer, type ScoreBlockFn } from './score-block';

export interface TopKOptions {
  /**
   * Gallery rows scored per block; the only score buffer is [queryCount, blockRows]. Default: as many rows as fit
   * in 16 MB (at least one).
   */
  blockRows?: number;
  /**
   * Scores blocks: a bare score function, or a BlockScorer whose `topKBlock` also selects natively (onnxruntime:
   * scoring and selection both multi-threaded). Default: `defaultScorer()` (onnxruntime when it loads).
   */
  scorer?: ScoreBlockFn | BlockScorer;
  /**
   * Returns true to drop a candidate (CIRR drops the reference image). Called only for candidates whose score would
   * enter the query's current top k, so a slow callback does not slow the scan.
   */
  exclude?: (queryIndex: number, galleryIndex: number) => boolean;
}

export interface TopKResult {
  /** [queryCount, k] gallery indices by descending score, ties to the lower index; -1 pads missing results. */
  indices: Int32Array;
  /** [queryCount, k] the matching scores; -Infinity pads missing results. */
  scores: Float32Array;
}

/**
 * Score-block budget. Measured with onnxruntime on 2 threads, 64 queries of dim 256 over 100k rows: blocks of
 * 16k–100k rows all took 27–31 ms to score, 4,096-row blocks 45–83 ms (each run wakes the thread pool).
 */
const DEFAULT_BLOCK_BYTES = 16 * 1024 * 1024;

/** Extra candidates a native block selection returns per query when `exclude` may drop some of them. */
const EXCLUDE_MARGIN = 8;

/**
 * Exact top-k by inner product of `queries` [queryCount, dim] against `gallery` [galleryCount, dim] (cosine when both
 * are L2-normalised). When fewer than k candidates exist (k > galleryCount, or after `exclude`), rows are padded
 * with index -1 and score -Infinity. Scores that are NaN or -Infinity never enter the results.
 *
 * The gallery is scanned in blocks of `blockRows`; each query keeps a k-sized min-heap whose root, the current k-th
 * best, rejects most scores with a single comparison. With a scorer that selects natively (`topKBlock`), each block
 * yields only its best k (+ a margin when `exclude` is set) per query; a query whose margin `exclude` used up falls
 * back to the full score row of that block, so the result stays exact.
 */
export async function topK(
  queries: Float32Array,
  queryCount: number,
  gallery: Float32Array,
  galleryCount: number,
  dim: number,
  k: number,
  options: TopKOptions = {},
): Promise<TopKResult> {
  if (queries.length < queryCount * dim || gallery.length < galleryCount * dim) {
    throw new RangeError(
      `topK: arrays are shorter than [${queryCount}, ${dim}] queries and [${galleryCount}, ${dim}] gallery`,
    );
  }
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`topK: k must be a non-negative integer, got ${k}`);
  const heapScores = new Float32Array(queryCount * k).fill(-Infinity);
  const heapIndices = new Int32Array(queryCount * k).fill(-1);
  if (k === 0 || queryCount === 0 || galleryCount === 0) return { indices: heapIndices, scores: heapScores };

  const blockRows = Math.min(
    galleryCount,
    options.blockRows ??
      Math.max(1, Math.floor(DEFAULT_BLOCK_BYTES / Float32Array.BYTES_PER_ELEMENT / queryCount)),
  );
  if (!Number.isInteger(blockRows) || blockRows < 1) {
    throw new RangeError(`topK: blockRows must be a positive integer, got ${options.blockRows}`);
  }
  const scorer = options.scorer ?? defaultScorer();
  const scoreBlock = typeof scorer === 'function' ? scorer : scorer.scoreBlock;
  const topKBlock = typeof scorer === 'function' ? undefined : scorer.topKBlock;
  const heapSizes = new Int32Array(queryCount);
  let block: Float32Array | undefined;
  const candidateCount = k + (options.exclude ? EXCLUDE_MARGIN : 0);
  const candidateScores = new Float32Array(topKBlock ? queryCount * candidateCount : 0);
  const candidateIndices = new Int32Array(topKBlock ? queryCount * candidateCount : 0);

  for (let blockStart = 0; blockStart < galleryCount; blockStart += blockRows) {
    const rows = Math.min(blockRows, galleryCount - blockStart);
    const galleryBlock = gallery.subarray(blockStart * dim, (blockStart + rows) * dim);
    let needsFullRow: number[] = [];
    if (topKBlock && candidateCount < rows) {
      await topKBlock(
        queries,
        queryCount,
        galleryBlock,
        rows,
        dim,
        candidateCount,
        candidateScores,
        candidateIndices,
      );
      for (let query = 0; query < queryCount; query++) {
        const offered = offerCandidates(
          candidateScores,
          candidateIndices,
          query * candidateCount,
          candidateCount,
          blockStart,
          query,
          k,
          heapScores,
          heapIndices,
          heapSizes[query],
          options.exclude,
        );
        if (offered < 0) needsFullRow.push(query);
        else heapSizes[query] = offered;
      }
      if (needsFullRow.length === 0) continue;
    } else {
      needsFullRow = Array.from({ length: queryCount }, (_, query) => query);
    }
    block ??= new Float32Array(queryCount * blockRows);
    await scoreBlock(queries, queryCount, galleryBlock, rows, dim, block);
    for (const query of needsFullRow) {
      heapSizes[query] = selectFromRow(
        block,
        query * rows,
        rows,
        blockStart,
        query,
        k,
        heapScores,
        heapIndices,
        heapSizes[query],
        options.exclude,
      );
    }
  }

  for (let query = 0; query < queryCount; query++) {
    sortHeapBestFirst(heapScores, heapIndices, query * k, heapSizes[query]);
  }
  return { indices: heapIndices, scores: heapScores };
}

/**
 * Offers a block's best candidates (descending, from a native selection) to the query's heap. Returns the new heap
 * size, or -1 without touching the heap when `exclude` (or a NaN) removed so many candidates that rows outside the
 * candidate list could still belong to the top k: the caller then scans the full row.
 */
function offerCandidates(
  candidateScores: Float32Array,
  candidateIndices: Int32Array,
  start: number,
  count: number,
  blockStart: number,
  query: number,
  k: number,
  heapScores: Float32Array,
  heapIndices: Int32Array,
  size: number,
  exclude: TopKOptions['exclude'],
): number {
  let usable = 0;
  for (let i = 0; i < count; i++) {
    const score = candidateScores[start + i];
    if (!Number.isNaN(score) && !exclude?.(query, blockStart + candidateIndices[start + i])) usable++;
  }
  if (usable < k) return -1;
  let threshold = size < k ? -Infinity : heapScores[query * k];
  for (let i = 0; i < count; i++) {
    const score = candidateScores[start + i];
    if (!(score > threshold)) break;
    const galleryIndex = blockStart + candidateIndices[start + i];
    if (exclude?.(query, galleryIndex)) continue;
    if (size < k) {
      siftUp(heapScores, heapIndices, query * k, size, score, galleryIndex);
      size++;
      if (size === k) threshold = heapScores[query * k];
    } else {
      siftDown(heapScores, heapIndices, query * k, k, score, galleryIndex);
      threshold = heapScores[query * k];
    }
  }
  return size;
}

/**
 * Offers the scores block[rowStart .. rowStart + rows) of gallery rows blockStart … to the query's heap of `size`
 * entries at [query·k, query·k + k) and returns the new size. Kept out of the async topK so that V8 optimises the
 * scan as an ordinary hot function.
 */
function selectFromRow(
  block: Float32Array,
  rowStart: number,
  rows: number,
  blockStart: number,
  query: number,
  k: number,
  heapScores: Float32Array,
  heapIndices: Int32Array,
  size: number,
  exclude: TopKOptions['exclude'],
): number {
  const heapStart = query * k;
  // Gallery indices only grow during the scan, so a score equal to the k-th best loses the tie: strict `>`.
  let threshold = size < k ? -Infinity : heapScores[heapStart];
  for (let column = 0; column < rows; column++) {
    const score = block[rowStart + column];
    if (!(score > threshold)) continue;
    const galleryIndex = blockStart + column;
    if (exclude?.(query, galleryIndex)) continue;
    if (size < k) {
      siftUp(heapScores, heapIndices, heapStart, size, score, galleryIndex);
      size++;
      if (size === k) threshold = heapScores[heapStart];
    } else {
      siftDown(heapScores, heapIndices, heapStart, k, score, galleryIndex);
      threshold = heapScores[heapStart];
    }
  }
  return size;
}

/** Heap order puts the worst entry at the root: the lower score, or on equal scores the higher gallery index. */
function isWorse(scoreA: number, indexA: number, scoreB: number, indexB: number): boolean {
  return scoreA < scoreB || (scoreA === scoreB && indexA > indexB);
}

/** Inserts (score, index) into the heap occupying [start, start + size). */
function siftUp(
  scores: Float32Array,
  indices: Int32Array,
  start: number,
  size: number,
  score: number,
  index: number,
): void {
  let position = size;
  while (position > 0) {
    const parent = (position - 1) >> 1;
    if (!isWorse(score, index, scores[start + parent], indices[start + parent])) break;
    scores[start + position] = scores[start + parent];
    indices[start + position] = indices[start + parent];
    position = parent;
  }
  scores[start + position] = score;
  indices[start + position] = index;
}

/** Replaces the root of the heap occupying [start, start + size) with (score, index). */
function siftDown(
  scores: Float32Array,
  indices: Int32Array,
  start: number,
  size: number,
  score: number,
  index: number,
): void {
  let position = 0;
  for (;;) {
    let child = 2 * position + 1;
    if (child >= size) break;
    if (
      child + 1 < size &&
      isWorse(
        scores[start + child + 1],
        indices[start + child + 1],
        scores[start + child],
        indices[start + child],
      )
    ) {
      child++;
    }
    if (!isWorse(scores[start + child], indices[start + child], score, index)) break;
    scores[start + position] = scores[start + child];
    indices[start + position] = indices[start + child];
    position = child;
  }
  scores[start + position] = score;
  indices[start + position] = index;
}

/** Heapsort in place: repeatedly moving the worst root to the end leaves the best entry first. */
function sortHeapBestFirst(scores: Float32Array, indices: Int32Array, start: number, size: number): void {
  for (let end = size - 1; end > 0; end--) {
    const score = scores[start + end];
    const index = indices[start + end];
    scores[start + end] = scores[start];
    indices[start + end] = indices[start];
    siftDown(scores, indices, start, end, score, index);
  }
}
