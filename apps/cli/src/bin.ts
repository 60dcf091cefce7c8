#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, endQuietlyOnClosedPipe } from './output';
import { createProgram, throwInsteadOfExit } from './program';

endQuietlyOnClosedPipe(process.stdout);
const program = createProgram();
throwInsteadOfExit(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Help and version exit 0; commander's usage errors (printed already) exit 2, as `cir --help` says.
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  if (error instanceof CliError) {
    process.stderr.write(`cir: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  if (process.env.CIR_DEBUG === '1') throw error;
  process.stderr.write(
    `cir: ${error instanceof Error ? error.message : String(error)}\n(CIR_DEBUG=1 prints the stack trace)\n`,
  );
  process.exit(1);
}
