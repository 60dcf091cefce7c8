#!/usr/bin/env node
import { CliError } from './output';
import { createProgram } from './program';

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`cir: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  throw error;
}
