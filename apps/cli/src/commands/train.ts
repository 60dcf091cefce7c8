import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { trainMiniClip } from '@cir/encoders';
import type { Command } from 'commander';
import { CliError, integerAtLeast, printResult } from '../output';
import { ProgressBar } from '../progress';
import { registerTrainMai } from './mai';

interface TrainEncoderOptions {
  data: string;
  out: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  heldOut?: number;
  seed: number;
  json?: boolean;
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0)) throw new CliError(`expected a positive number, got "${value}"`, 2);
  return parsed;
}

/** `--data` may be a world folder (its captions.jsonl) or a pairs file. */
function pairsFileOf(data: string): string {
  const path = resolve(data);
  if (!existsSync(path)) throw new CliError(`${path} does not exist`, 2);
  if (!statSync(path).isDirectory()) return path;
  const pairs = join(path, 'captions.jsonl');
  if (!existsSync(pairs))
    throw new CliError(`${path} has no captions.jsonl (give a pairs file: .jsonl, .csv or .tsv)`, 2);
  return pairs;
}

/** `cir train …`: train the mini encoder and the methods. */
export function registerTrain(program: Command): void {
  const train = program
    .command('train')
    .description('Train the built-in mini encoder or a retrieval method.');
  registerTrainMai(train);
  train
    .command('encoder')
    .description(
      'Train the mini CLIP-style dual encoder contrastively on image-caption pairs, then freeze it.',
    )
    .requiredOption(
      '--data <path>',
      'a world folder from `cir data generate` (uses captions.jsonl) or a pairs file',
    )
    .requiredOption(
      '--out <dir>',
      'encoder folder to write (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)',
    )
    .option('--epochs <n>', 'passes over the training pairs', integerAtLeast(1), 3)
    .option(
      '--batch-size <n>',
      'pairs per step (also the number of in-batch negatives)',
      integerAtLeast(2),
      128,
    )
    .option('--learning-rate <x>', 'AdamW peak learning rate (warm-up then cosine)', positiveNumber, 1e-3)
    .option(
      '--held-out <n>',
      'pairs kept out to measure zero-shot retrieval (default 10 %, at most 1,000)',
      integerAtLeast(1),
    )
    .option('--seed <n>', 'seed of initialisation, split and batch order', integerAtLeast(0), 1)
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Checkpoints go to <out>.run/ every 50 steps: run the same command again after an interruption and it resumes.
The encoder identity (mini-clip@<hash of the weights>) is recorded in every index and feature cache built with it.

Examples:
  cir data generate --out world && cir train encoder --data world --out world/encoder
  cir train encoder --data pairs.csv --out my-encoder --epochs 8 --json`,
    )
    .action(async (options: TrainEncoderOptions) => {
      const bar = new ProgressBar(!options.json);
      const result = await trainMiniClip({
        pairsFile: pairsFileOf(options.data),
        outDirectory: resolve(options.out),
        epochs: options.epochs,
        batchSize: options.batchSize,
        learningRate: options.learningRate,
        heldOut: options.heldOut,
        seed: options.seed,
        onStage: (stage) => {
          if (!options.json) process.stderr.write(`${stage}…\n`);
        },
        onProgress: (progress) =>
          bar.update(
            'training',
            progress.step,
            progress.totalSteps,
            `loss ${progress.loss.toFixed(3)}  ${progress.examplesPerSecond.toFixed(0)} pairs/s`,
          ),
      });
      bar.stop();
      printResult(result, options, () =>
        [
          `Trained ${result.id} in ${result.seconds.toFixed(0)} s (${result.steps} steps on ${result.trainPairs} pairs, final loss ${result.finalLoss.toFixed(3)})`,
          `Saved to ${result.outDirectory}`,
          `Zero-shot on ${result.heldOutPairs} held-out pairs:`,
          `  text → image  R@1 ${result.heldOutTextToImage.recallAt1.toFixed(1)}  R@5 ${result.heldOutTextToImage.recallAt5.toFixed(1)}  R@10 ${result.heldOutTextToImage.recallAt10.toFixed(1)}`,
          `  image → text  R@1 ${result.heldOutImageToText.recallAt1.toFixed(1)}  R@5 ${result.heldOutImageToText.recallAt5.toFixed(1)}  R@10 ${result.heldOutImageToText.recallAt10.toFixed(1)}`,
        ].join('\n'),
      );
    });
}
