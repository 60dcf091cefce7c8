// @cir/datasets: records, loaders and validators for every benchmark format, the synthetic catalog and the MGF.

export type { ChatIrEmission } from './emitters/chatir';
export { emitChatIr } from './emitters/chatir';
export type { CirrEmission, CirrSplitFiles } from './emitters/cirr';
export { emitCirr } from './emitters/cirr';
export type { FashionIqEmission, FashionIqFile } from './emitters/fashion-iq';
export { emitFashionIq } from './emitters/fashion-iq';
export type { FashionMtEmission } from './emitters/fashion-mt';
export { emitFashionMt } from './emitters/fashion-mt';
export type { MtcirEmission, MtcirFile } from './emitters/mtcir';
export { emitMtcir } from './emitters/mtcir';
export type { MultiTurnFashionIqEmission, MultiTurnFashionIqFile } from './emitters/multi-turn-fashion-iq';
export { emitMultiTurnFashionIq } from './emitters/multi-turn-fashion-iq';
export type { ShoesEmission } from './emitters/shoes';
export { emitShoes } from './emitters/shoes';
export type { SyntheticWorld, WorldSplit } from './emitters/synthetic-world';
export type { RecordLocation } from './errors';
export { DatasetFormatError, describeLocation, ImageDecodeError } from './errors';
export { chatIrQuery, loadChatIrDialogs, loadChatIrSearchSpace, parseChatIrRound } from './formats/chatir';
export type { CirrSplit } from './formats/cirr';
export { CIRR_SPLITS, loadCirrPairs, loadCirrSplit } from './formats/cirr';
export type { DelimitedRow } from './formats/delimited-text';
export { parseDelimitedText } from './formats/delimited-text';
export type { FashionIqSplit } from './formats/fashion-iq';
export {
  FASHION_IQ_SPLITS,
  fashionIqPaths,
  joinFashionIqCaptions,
  loadFashionIqTriplets,
  loadImageList,
} from './formats/fashion-iq';
export type { RollbackPrefix } from './formats/fashion-mt';
export {
  fashionMtKind,
  loadFashionMtTransactions,
  loadIndexNames,
  numberedItems,
  parseRollback,
  ROLLBACK_PREFIXES,
} from './formats/fashion-mt';
export { loadImageCaptionPairs } from './formats/image-caption-pairs';
export { loadMtcirPairs } from './formats/mtcir';
export { loadMultiTurnFashionIq, MULTI_TURN_FASHION_IQ_SPLITS } from './formats/multi-turn-fashion-iq';
export type { ShoesSplit } from './formats/shoes';
export { loadImageNameList, loadShoesTriplets, SHOES_SPLITS, splitShoesTriplets } from './formats/shoes';
export type {
  GenerateWorldOptions,
  WorldFormat,
  WorldManifest,
  WorldStage,
  WorldSummary,
} from './generate-world';
export { generateWorld, WORLD_FOLDERS, WORLD_FORMAT_VERSION, WORLD_STAGES } from './generate-world';
export { encodePng } from './images/encode-png';
export type {
  DecodedImage,
  DecodeImageOptions,
  ImageSource,
  PreprocessBatchOptions,
  PreprocessedBatch,
  PreprocessOptions,
  ResizeMode,
} from './images/image-io';
export {
  CLIP_MEAN,
  CLIP_STD,
  decodeImage,
  preprocessBatch,
  preprocessImage,
} from './images/image-io';
export { readJsonFile, readLines, readTextFile } from './json-io';
export type { LoadMode, LoadOptions, LoadResult, RecordIssue } from './load-result';
export { LoadCollector } from './load-result';
export type { HistoryReport, IdentificationRates } from './mgf/history-oracle';
export { historyReport } from './mgf/history-oracle';
export type { LlamaCppOptions } from './mgf/llama-cpp-paraphraser';
export { LlamaCppParaphraser } from './mgf/llama-cpp-paraphraser';
export type { KeptAttribute, Modification } from './mgf/modification-text';
export {
  attributeChanges,
  describeChange,
  MAX_RETROSPECTIVE_TURN,
  ModificationParseError,
  modificationText,
  parseModification,
  sameModification,
} from './mgf/modification-text';
export type { OpenAiCompatibleOptions } from './mgf/openai-compatible-paraphraser';
export { OpenAiCompatibleParaphraser } from './mgf/openai-compatible-paraphraser';
export type { Paraphraser } from './mgf/paraphraser';
export { PARAPHRASE_PROMPT, paraphraseModification, templateParaphraser } from './mgf/paraphraser';
export type { Transaction, TransactionKind, TransactionOptions } from './mgf/transactions';
export { generateTransactions, MAX_TURNS, MIN_TURNS } from './mgf/transactions';
export type {
  ChatIrDialog,
  ChatIrRound,
  CirrPair,
  DatasetStats,
  FashionIqCategory,
  FashionIqTriplet,
  FashionMtKind,
  FashionMtTransaction,
  ImageCaptionPair,
  MtcirCategory,
  MtcirPair,
  MultiTurnFashionIqSession,
  ShoesTriplet,
} from './records';
export { FASHION_IQ_CATEGORIES, MTCIR_CATEGORIES } from './records';
export { sharedBenchmarksDirectory } from './shared-benchmarks';
export type { DatasetFormat, DatasetReport, DatasetStatsOptions, StatsDetails } from './stats';
export { DATASET_FORMATS, datasetStats } from './stats';
export type { AttributeName, Attributes, AttributeValue, Category, Product } from './synthetic/attributes';
export {
  ATTRIBUTE_NAMES,
  ATTRIBUTE_VALUES,
  attributeKey,
  CATEGORIES,
  CATEGORY_ATTRIBUTES,
  categoryCapacity,
  describeValue,
} from './synthetic/attributes';
export { captionFor, parseCaption } from './synthetic/caption';
export { writeCaptionsFile } from './synthetic/captions-file';
export type { CatalogOptions } from './synthetic/catalog';
export { generateCatalog } from './synthetic/catalog';
export type { RenderCatalogOptions } from './synthetic/render-catalog';
export { productImagePath, renderCatalog } from './synthetic/render-catalog';
export type { RenderOptions } from './synthetic/renderer';
export { renderProductPng, renderProductPngs, renderProductSvg } from './synthetic/renderer';
