/**
 * An independent, deliberately naive implementation of the published ranking step (CLIP4Cir / ARTEMIS / MAI):
 * float64 cosine scores, a stable descending sort of the whole gallery, optional removal of one item, then the
 * position of the target. Used only by tests, to check the block-wise production code.
 */
export function naiveRankedList(
  queries: Float32Array,
  query: number,
  gallery: Float32Array,
  galleryCount: number,
  dim: number,
): number[] {
  const queryRow = Array.from(queries.subarray(query * dim, (query + 1) * dim));
  const queryNorm = Math.hypot(...queryRow);
  const scores = Array.from({ length: galleryCount }, (_value, row) => {
    let dot = 0;
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      dot += queryRow[d]! * gallery[row * dim + d]!;
      norm += gallery[row * dim + d]! ** 2;
    }
    return dot / (queryNorm * Math.sqrt(norm));
  });
  return Array.from({ length: galleryCount }, (_value, row) => row).sort((a, b) => scores[b]! - scores[a]!);
}

export function recallFromPositions(positions: number[], k: number): number {
  return (100 * positions.filter((position) => position < k).length) / positions.length;
}
