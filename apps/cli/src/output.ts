import { InvalidArgumentError } from 'commander';

/** Prints a result: pretty text for people, one JSON object for scripts (`--json`). */
export function printResult(result: unknown, options: { json?: boolean }, pretty: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${pretty()}\n`);
}

/** An error whose message is for the user; the CLI prints it without a stack trace and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A commander argument parser for integers ≥ minimum, with a message that names the bad value. */
export function integerAtLeast(minimum: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < minimum) {
      throw new InvalidArgumentError(`expected an integer of at least ${minimum}, got "${value}".`);
    }
    return parsed;
  };
}
