import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError } from '../output';
import { createProgram } from '../program';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cir-data-generate-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Runs `cir data generate …` in process; commander's own errors throw instead of exiting. */
async function run(...args: string[]): Promise<string> {
  const program = createProgram();
  const commands: Command[] = [program];
  for (const command of commands) {
    command.exitOverride().configureOutput({ writeErr: () => undefined });
    commands.push(...command.commands);
  }
  let output = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    output += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'cir', 'data', 'generate', ...args]);
  } finally {
    write.mockRestore();
  }
  return output;
}

const SMALL = ['--images', '210', '--transactions', '20', '--image-size', '16'];

describe('cir data generate', () => {
  it('writes a world and prints its summary as JSON', async () => {
    const out = join(directory, 'json');
    const summary = JSON.parse(await run('--out', out, ...SMALL, '--seed', '3', '--json'));
    expect(summary).toMatchObject({ outDir: out, seed: 3, images: 210, turns: 3, skipped: [] });
    expect(summary.transactions.train + summary.transactions.test).toBe(20);
    expect(summary.historyReport.rollback.fullHistoryRate).toBe(1);
    for (const files of Object.values(summary.files) as string[][]) {
      for (const file of files) expect(existsSync(join(out, file)), file).toBe(true);
    }
  });

  it('prints stage times, the history report and where each format went', async () => {
    const out = join(directory, 'pretty');
    const text = await run('--out', out, ...SMALL, '--turns', '2');
    expect(text).toContain(`Generated a synthetic world in ${out} (seed 1)`);
    expect(text).toMatch(/ {2}render +\d+\.\d s {2}210 pictures of 16 px/);
    expect(text).toMatch(/rollback +last turn only +\d+\.\d % +full history +100\.0 %/);
    expect(text).toContain(`fashionIq           ${join(out, 'fashion-iq')}`);
    expect(text).toContain('fashionMt           skipped: FashionMT transactions have 3 turns, these have 2');
  });

  it('turns impossible options into user errors', async () => {
    const out = join(directory, 'errors');
    await expect(run('--out', out, '--turns', '5')).rejects.toThrow(
      new CliError('turns must be an integer from 2 to 4, got 5', 2),
    );
    await expect(run('--out', out, '--images', '1000000')).rejects.toThrow(
      /cannot generate \d+ shirt products/,
    );
    await expect(run('--out', out, '--images', '14')).rejects.toThrow(
      /no category has the 4 distinct products/,
    );
    await expect(run('--out', out, '--paraphrase-gguf', join(directory, 'missing.gguf'))).rejects.toThrow(
      /GGUF model file not found/,
    );
    await expect(run('--out', out, '--paraphrase-endpoint', 'http://127.0.0.1:1/v1')).rejects.toThrow(
      '--paraphrase-endpoint needs --paraphrase-model.',
    );
    await expect(run('--out', out, '--paraphrase-model', 'tiny')).rejects.toThrow(
      '--paraphrase-model names the model of --paraphrase-endpoint: give both.',
    );
    await expect(
      run('--out', out, '--paraphrase-endpoint', 'http://127.0.0.1:1/v1', '--paraphrase-model', 'tiny'),
    ).rejects.toThrow(/^The paraphraser does not work: fetch failed/);
    const model = join(directory, 'model.gguf');
    await writeFile(model, 'GGUF');
    // node-llama-cpp is an optional peer that this workspace does not install.
    await expect(run('--out', out, '--paraphrase-gguf', model)).rejects.toThrow(
      /node-llama-cpp is not installed/,
    );
    await expect(run('--out', out, '--turns', 'two')).rejects.toThrow(/expected an integer of at least 2/);
    await expect(run('--images', '10')).rejects.toThrow(/required option '--out <dir>'/);
    expect(existsSync(out)).toBe(false);
  });
});
