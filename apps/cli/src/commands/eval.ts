import type { Command } from 'commander';
import { registerEvalEmbeddings } from './eval-embeddings';
import { registerEvalMai } from './mai';

/** `cir eval …`: score models and embeddings with the benchmarks' official protocols. */
export function registerEval(program: Command): void {
  const evaluate = program
    .command('eval')
    .description(
      'Evaluate with the official benchmark protocols (FashionIQ, CIRR, Shoes, ChatIR, FashionMT).',
    );
  registerEvalEmbeddings(evaluate);
  registerEvalMai(evaluate);
}
