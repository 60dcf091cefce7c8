// @cir/index: gallery stores (exact in memory, embedded ANN on LanceDB) and the shared retrieval contract.

export type { DirectoryReplaceStage, ReplaceDirectoryHooks } from '@cir/core-tensor';
export type { AnnBenchmarkOptions, AnnBenchmarkResult } from './ann-benchmark';
export { benchmarkAnnRecall } from './ann-benchmark';
export { indexBenchmarks } from './benchmarks';
export type {
  ComposedRetriever,
  GalleryItem,
  RankedResult,
  RetrievalSession,
  RetrieverProvider,
  TurnInput,
  TurnResult,
} from './composed-retriever';
export { gallerySource, UnknownItemError } from './composed-retriever';
export type { ExactStoreOptions, SaveExactStoreOptions } from './exact-store';
export { ExactStore, loadExactStore } from './exact-store';
export type {
  BuildLanceStoreOptions,
  LanceBuildStage,
  LanceIndexOptions,
  LanceSearchParameters,
} from './lance-store';
export { buildLanceStore, defaultLanceIndex, defaultSearchParameters, LanceStore } from './lance-store';
export type { BatchedRequest, BatchHandOff, GroupedSearch } from './micro-batcher';
export { MicroBatcher, searchGrouped } from './micro-batcher';
export { DuplicateIdError, InvalidItemError, StoreFormatError } from './store-errors';
export type { ExcludeIds, SearchHit, SearchOptions, VectorItem, VectorStore } from './vector-store';
