/**
 * Modification texts of every kind a multi-turn retriever reads (plain, rollback, combination), in the shapes the
 * synthetic FashionMT data and the web page use: the load test's default texts and the start-up warm-up's.
 */
export const SAMPLE_TURN_TEXTS: readonly string[] = [
  'is red',
  'is blue and has long sleeves',
  'has short sleeves',
  'make it black',
  'with a logo',
  'is striped',
  '1. is green',
  'I prefer the first one, and 1. is yellow',
  'go back to the second one, with long sleeves',
  '1. is white 2. keep the pattern of the first turn',
];
