// @cir/encoders: frozen image/text encoders (ONNX exports and the built-in mini encoder) and the feature cache.

export type { EncodedBatch, EncoderInfo, EncodeTextsOptions, ImageEncoder, TextEncoder } from './encoder';
export { EncoderMismatchError } from './encoder';
export type { CachedFeatures, FeatureCacheOptions } from './feature-cache';
export { FeatureCache } from './feature-cache';
export { longestText, MiniClipEncoder } from './mini/mini-clip-encoder';
export type { SavedMiniClip } from './mini/mini-clip-files';
export { loadMiniClip, MINI_CLIP_FILES, miniClipId, saveMiniClip } from './mini/mini-clip-files';
export type { MiniClipConfig, TowerOutput } from './mini/mini-clip-model';
export { DEFAULT_MINI_CLIP_CONFIG, imagesToPatches, MiniClip, patchGrid } from './mini/mini-clip-model';
export { readPixels } from './mini/read-pixels';
export type { RetrievalRecall, TrainMiniClipOptions, TrainMiniClipResult } from './mini/train-mini-clip';
export { pairedRecall, trainMiniClip } from './mini/train-mini-clip';
export type { TokenizedBatch } from './mini/word-level-tokenizer';
export {
  BatchTokenizer,
  buildWordLevelTokenizerJson,
  SPECIAL_TOKENS,
  wordLevelTokenizerConfig,
} from './mini/word-level-tokenizer';
export type { OnnxClipEncoderOptions, OnnxDevice, OnnxDtype } from './onnx/onnx-clip-encoder';
export { OnnxClipEncoder } from './onnx/onnx-clip-encoder';
export type { TinyClipFolder, TinyClipOptions } from './onnx/write-tiny-clip';
export { writeTinyClipFolder } from './onnx/write-tiny-clip';
