// @cir/eval: metrics and benchmark protocols, result tables and plots.

export { checkMatrix, galleryIndex, lookupRow } from './gallery-index';
export {
  cumulativeHitsPerRound,
  meanAveragePrecisionAtK,
  meanAveragePrecisionAtKMulti,
  recallAtK,
} from './metrics';
export type { NpyArray } from './npy';
export { encodeNpy, parseNpy, readNpy } from './npy';
export type { LinePlotOptions, LineSeries } from './plots';
export { linePlotSvg, writeLinePlotPng } from './plots';
export type { ChatIrInput, ChatIrResult } from './protocols/chatir';
export { evaluateChatIr } from './protocols/chatir';
export type { CirrResult } from './protocols/cirr';
export { evaluateCirr } from './protocols/cirr';
export type { EmbeddingProtocolInput, FashionIqResult } from './protocols/fashion-iq';
export { averageFashionIq, evaluateFashionIq } from './protocols/fashion-iq';
export type { FashionMtRecalls, FashionMtResult } from './protocols/fashion-mt';
export { evaluateFashionMt } from './protocols/fashion-mt';
export type { MultiTurnFashionIqResult } from './protocols/multi-turn-fashion-iq';
export { evaluateMultiTurnFashionIq } from './protocols/multi-turn-fashion-iq';
export type { ShoesResult } from './protocols/shoes';
export { evaluateShoes } from './protocols/shoes';
export type { TargetRankOptions } from './ranking';
export { dotProduct, targetRanks } from './ranking';
export type { ResultTable } from './tables';
export { toMarkdown, toRecords } from './tables';
