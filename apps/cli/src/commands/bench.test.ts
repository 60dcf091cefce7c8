import { describe, expect, it } from 'vitest';
import { runCli } from '../test-helpers';

describe('cir bench', () => {
  it('refuses an option the chosen benchmark does not take, naming the ones it does (exit 2)', async () => {
    const { error } = await runCli('bench', 'ann', '--n', '1000');
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toMatch(/^--n does not apply to ann \(it takes .*--count/);
  });

  it('takes --method for serve-load only (exit 2 elsewhere)', async () => {
    const { error } = await runCli('bench', 'topk', '--method', 'sum');
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toBe('--method applies to serve-load only');
  });

  it('says what a shared option means for each benchmark that takes it', async () => {
    const { stdout } = await runCli('bench');
    // commander wraps long descriptions: compare with the whitespace folded.
    const help = stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--dim <number> model width \(attention\); vector dimension \(topk, ann\)/);
  });
});
