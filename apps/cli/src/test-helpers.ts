import { vi } from 'vitest';
import { CliError } from './output';
import { createProgram, throwInsteadOfExit } from './program';

/** Runs `cir …args` in process; returns what it printed and the error it ended with, if any. */
export async function runCli(...args: string[]): Promise<{ stdout: string; error?: CliError }> {
  const program = createProgram();
  throwInsteadOfExit(program, true);
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  try {
    await program.parseAsync(['node', 'cir', ...args]);
    return { stdout };
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return { stdout, error };
  } finally {
    vi.restoreAllMocks();
  }
}
