// @cir/core-tensor: backend selection, nn blocks, optimizers, checkpoints, similarity/top-k, slerp and pooling.

export type { BackendInfo, BackendName, InitBackendOptions } from './backend';
export { BACKEND_ORDER, backendInfo, initBackend, tf } from './backend';
export { benchmarkAttention } from './benchmarks/attention-benchmark';
export { benchmarkMatMul, median } from './benchmarks/matmul-benchmark';
export type { BenchmarkDefinition, BenchmarkResult } from './benchmarks/registry';
export { coreTensorBenchmarks, runBenchmarks, summarizeBenchmark } from './benchmarks/registry';
export { writeFileAtomic, writeJsonAtomic } from './checkpoint/atomic-write';
export type {
  CheckpointContents,
  CheckpointSaveStage,
  CheckpointTensor,
  LoadedCheckpoint,
  SaveCheckpointOptions,
} from './checkpoint/checkpoint';
export {
  CheckpointError,
  latestCheckpoint,
  loadCheckpoint,
  ModelMismatchError,
  pruneCheckpoints,
  saveCheckpoint,
  stepCheckpointPath,
} from './checkpoint/checkpoint';
export type {
  DirectoryReplaceStage,
  ReplaceDirectoryHooks,
  ReplaceDirectoryOptions,
} from './checkpoint/replace-directory';
export { replaceDirectory, restoreInterruptedReplace } from './checkpoint/replace-directory';
export type {
  NamedTensor,
  SafetensorsContents,
  SafetensorsDtype,
  SafetensorsHeader,
  SafetensorsTensorInfo,
} from './checkpoint/safetensors';
export {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsFile,
  readSafetensorsHeader,
  SafetensorsFormatError,
  writeSafetensorsFile,
} from './checkpoint/safetensors';
export type { GradientCheckEntry, GradientCheckOptions, GradientCheckResult } from './grad-check';
export { checkGradients, maxAbsDifference } from './grad-check';
export {
  addInPlace,
  FrozenCrossAttention,
  FrozenFeedForward,
  FrozenLayerNorm,
  FrozenLinear,
  FrozenPreNormBlock,
  FrozenSelfAttention,
  l2NormalizeRowsInPlace,
  linearRows,
} from './inference/frozen';
export type { CrossAttentionInput, CrossBlockParts, PreNormBlockParts } from './inference/native-block';
export { NativePreNormBlock } from './inference/native-block';
export { applyBlocksPacked, applyBlocksPadded, lengthGroups } from './inference/packed-blocks';
export type { AttentionCallOptions, MultiHeadAttentionOptions } from './nn/attention';
export { MultiHeadAttention } from './nn/attention';
export { Embedding } from './nn/embedding';
export type { FeedForwardActivation, FeedForwardOptions } from './nn/feed-forward';
export { FeedForward, gelu, silu } from './nn/feed-forward';
export { LearnedQueries } from './nn/learned-queries';
export type { LinearOptions } from './nn/linear';
export { Linear } from './nn/linear';
export type { LoraOptions } from './nn/lora';
export { LoraLinear } from './nn/lora';
export type { TensorData } from './nn/module';
export { init, Module, toRng } from './nn/module';
export { LayerNorm, RMSNorm } from './nn/normalization';
export { RotaryEmbedding } from './nn/rotary';
export type { TransformerBlockCall, TransformerBlockOptions } from './nn/transformer-block';
export { TransformerBlock } from './nn/transformer-block';
export type { OnnxRuntimeInfo } from './onnxruntime-info';
export { onnxRuntimeInfo } from './onnxruntime-info';
export { gatherRows } from './ops/gather';
export {
  geluDerivativeExact,
  geluExact,
  geluInPlace,
  geluInto,
  geluWithSlopeInto,
} from './ops/gelu-table';
export type { HostData } from './ops/host-kernel';
export {
  hostKernel,
  hostKernelOutputs,
  hostKernelsPreferred,
  recordingGradients,
  sumRows,
} from './ops/host-kernel';
export { layerNormBackward, layerNormForward } from './ops/layer-norm-kernels';
export { batchMatMul, matMul2d, matMulLastAxis } from './ops/matmul';
export type { NativeMatMul } from './ops/native-matmul';
export { nativeMatMul, nativeMatMulProblem } from './ops/native-matmul';
export { computeThreads, withComputeThreads } from './ops/ort-binding';
export { concatTokens, copyTokens, sliceTokens } from './ops/token-ranges';
export type { AdamWOptions } from './optim/adamw';
export { AdamW } from './optim/adamw';
export { clipGradientsByGlobalNorm } from './optim/clip-gradients';
export type { CosineWithWarmupOptions, LearningRateSchedule, OneCycleOptions } from './optim/schedules';
export { cosineWithWarmup, oneCycle } from './optim/schedules';
export { lastTokenPool, maskedMeanPool, meanPool, positionWeightedMeanPool } from './pooling';
export { hashString, Rng } from './rng';
export { cosineMatrix, cosineSimilarityMatrix } from './similarity/cosine';
export { innerProductMatrix } from './similarity/inner-product';
export { l2Normalize, l2NormalizeInPlace, l2NormalizeTensor } from './similarity/normalize';
export type { BlockScorer, ScoreBlockFn } from './similarity/score-block';
export { defaultScorer, javascriptScorer, onnxruntimeScorer } from './similarity/score-block';
export { slerp, slerpTensor } from './similarity/slerp';
export type { TopKOptions, TopKResult } from './similarity/top-k';
export { topK } from './similarity/top-k';
export type { TopKBenchmarkOptions, TopKBenchmarkResult } from './similarity/top-k-benchmark';
export { benchmarkTopK } from './similarity/top-k-benchmark';
export type { TrainingProgress, TrainLoopOptions, TrainLoopResult } from './training/train-loop';
export { runTrainingLoop } from './training/train-loop';
