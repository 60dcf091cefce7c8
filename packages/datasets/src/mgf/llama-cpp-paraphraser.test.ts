import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaCppParaphraser } from './llama-cpp-paraphraser';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'llama-cpp-paraphraser-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('LlamaCppParaphraser', () => {
  it('names a GGUF file that does not exist', () => {
    const modelPath = join(directory, 'missing.gguf');
    expect(() => new LlamaCppParaphraser({ modelPath })).toThrow(`GGUF model file not found: ${modelPath}`);
    expect(() => new LlamaCppParaphraser({ modelPath: directory })).toThrow(/GGUF model file not found/);
  });

  // node-llama-cpp is an optional peer that this workspace does not install.
  it('says how to get node-llama-cpp when it is not installed', async () => {
    const modelPath = join(directory, 'model.gguf');
    await writeFile(modelPath, 'GGUF');
    const paraphraser = new LlamaCppParaphraser({ modelPath });
    expect(paraphraser.name).toBe(`llama-cpp:${modelPath}`);
    await expect(paraphraser.paraphrase('1. is red ')).rejects.toThrow(/node-llama-cpp is not installed/);
  });
});
