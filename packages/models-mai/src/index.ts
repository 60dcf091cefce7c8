// @cir/models-mai: MAI (ICLR 2025) — TSA (BSA + MSA), MIO memory, CCL training, rollback and combination turns.

export type { AggregationInput, AggregationLayerOptions, AggregationOutput } from './aggregation-layer';
export { AggregationLayer, AggregationStack, NativeImageAggregationStack } from './aggregation-layer';
export type { SessionBatch } from './batches';
export { buildSessionBatch, disposeSessionBatch } from './batches';
export type { CclTerms, MaiConfig, MemoryPolicyName, Pooling } from './config';
export { ALL_CCL_TERMS, DEFAULT_MAI_CONFIG, PAPER_MAI_CONFIG } from './config';
export {
  evaluateMaiModel,
  evaluateZeroShotBaselines,
  galleryEmbeddings,
  scoreFashionMt,
  sessionQueries,
} from './evaluate-mai';
export type { FashionMtData, Session } from './fashion-mt-data';
export { loadFashionMtData } from './fashion-mt-data';
export type { TokenEncoder, TokenFeatures } from './features';
export { MaiFeatures, selectRows } from './features';
export type { FusionMode } from './fusion-retriever';
export { FUSION_MODES, FusionRetriever } from './fusion-retriever';
export type { MaiModelInfo } from './mai-files';
export { loadMaiModel, saveMaiModel } from './mai-files';
export type { BsaOutput, TokenInput } from './mai-model';
export { MaiModel } from './mai-model';
export type { MaiContext, MethodResult, TrainedVariant } from './mai-pipeline';
export {
  DEFAULT_MAI_STEPS,
  evaluateVariant,
  prepareMaiContext,
  trainedVariant,
  variantDirectory,
  zeroShotResults,
} from './mai-pipeline';
export { MaiRetriever } from './mai-retriever';
export type { MaiStepBenchmarkOptions, MaiStepBenchmarkResult } from './mai-step-benchmark';
export { benchmarkMaiStep, maiBenchmarks } from './mai-step-benchmark';
export type { MaiVariant } from './methods';
export { MAI_ABLATIONS, MAI_METHODS } from './methods';
export { MemoryUpdate } from './multi-turn-iterative-optimization';
export type { GalleryTokenBatch } from './native-gallery-encoder';
export { NativeGalleryEncoder } from './native-gallery-encoder';
export { NativeSessionQueries } from './native-session-queries';
export { maiRetrieverProvider } from './retriever-provider';
export type { TurnIntent } from './retrospective-text';
export {
  combinationTemplate,
  isCombinationRequest,
  parseSpokenRollback,
  readTurnIntent,
} from './retrospective-text';
export type { MaiTurnEmbeddings } from './session-forward';
export { forwardSessions } from './session-forward';
export type { TrainMaiOptions } from './train-mai';
export { maiRunId, trainMai } from './train-mai';
export type { TurnWorkerOptions } from './turn-batcher';
export type { ComposedTurn, ComposeTurn } from './turn-composer';
export { TurnComposer } from './turn-composer';
