import type { Command } from 'commander';
import { vi } from 'vitest';
import { CliError } from './output';
import { createProgram } from './program';

function exitOverrideEverywhere(command: Command): void {
  command.exitOverride();
  command.configureOutput({ writeErr: () => {} });
  for (const subcommand of command.commands) exitOverrideEverywhere(subcommand);
}

/** Runs `cir …args` in process; returns what it printed and the error it ended with, if any. */
export async function runCli(...args: string[]): Promise<{ stdout: string; error?: CliError }> {
  const program = createProgram();
  exitOverrideEverywhere(program);
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
