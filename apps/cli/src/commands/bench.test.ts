import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test-helpers';
import { readTurnTexts } from './serve-load-benchmark';

describe('cir bench', () => {
  it('refuses an option the chosen benchmark does not take, naming the ones it does (exit 2)', async () => {
    const { error } = await runCli('bench', 'ann', '--n', '1000');
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toMatch(/^--n does not apply to ann \(it takes .*--count/);
  });

  it('takes --method and --texts for serve-load only (exit 2 elsewhere)', async () => {
    for (const option of ['--method', '--texts']) {
      const { error } = await runCli('bench', 'topk', option, 'x');
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toBe(`${option} applies to serve-load only`);
    }
  });

  it('reads --texts one a line, and names the file and line of what it cannot take', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'cir-bench-texts-'));
    const file = join(folder, 'texts.txt');
    await writeFile(file, 'is red\r\n\n  go back to the previous one, in blue  \n');
    expect(await readTurnTexts(file)).toEqual(['is red', 'go back to the previous one, in blue']);
    await writeFile(file, '\n \n');
    await expect(readTurnTexts(file)).rejects.toMatchObject({
      exitCode: 2,
      message: `--texts ${file}: no text in it (one modification text a line)`,
    });
    await writeFile(file, `is red\n${'a'.repeat(2001)}\n`);
    await expect(readTurnTexts(file)).rejects.toThrow(`--texts ${file}, line 2: 2001 characters`);
    await expect(readTurnTexts(join(folder, 'missing.txt'))).rejects.toThrow(
      /--texts .*missing\.txt: ENOENT/,
    );
  });

  it('says what a shared option means for each benchmark that takes it', async () => {
    const { stdout } = await runCli('bench');
    // commander wraps long descriptions: compare with the whitespace folded.
    const help = stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--dim <number> model width \(attention\); vector dimension \(topk, ann\)/);
  });
});
