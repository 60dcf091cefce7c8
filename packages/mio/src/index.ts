// @cir/mio: DPC-kNN density-peaks token selection (MAI's Multi-turn Iterative Optimization) and memory policies.

export { gatherTokens } from './gather-tokens';
export type { GruCellOptions } from './gru-cell';
export { GruCell } from './gru-cell';
export type { MemoryPolicy, MemoryPolicyName, RecurrentMemoryPolicy } from './memory-policies';
export {
  concatMemoryPolicy,
  createMemoryPolicy,
  mioMemoryPolicy,
  noMemoryPolicy,
  recurrentMemoryPolicy,
} from './memory-policies';
export type { MioBenchmarkOptions, MioBenchmarkResult } from './mio-benchmark';
export { benchmarkMio, mioBenchmarks } from './mio-benchmark';
export type { SelectTokensOptions } from './select-tokens';
export { DEFAULT_NEIGHBOURS, selectTokens } from './select-tokens';
export { selectTokensTensor } from './select-tokens-tensor';
