import { InvalidArgumentError } from 'commander';

/** Prints a result: pretty text for people, one JSON object for scripts (`--json`). */
export function printResult(result: unknown, options: { json?: boolean }, pretty: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${pretty()}\n`);
}

/**
 * A reader that stops early (`cir index items | head -1`) closes the pipe: end quietly with exit 0, as other
 * command-line tools do, instead of Node's unhandled EPIPE error and stack trace. Other stream errors still throw.
 */
export function endQuietlyOnClosedPipe(
  stream: NodeJS.EventEmitter,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    exit(0);
  });
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
  return integerBetween(minimum, Number.POSITIVE_INFINITY);
}

/** A commander argument parser for integers from minimum to maximum, with a message that names the bad value. */
export function integerBetween(minimum: number, maximum: number): (value: string) => number {
  return (value) => {
    // Plain decimal digits only: Number() alone would also read "0x10", "1e3" and " 7".
    const parsed = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(parsed) || parsed < minimum || parsed > maximum) {
      const range =
        maximum === Number.POSITIVE_INFINITY ? `of at least ${minimum}` : `from ${minimum} to ${maximum}`;
      throw new InvalidArgumentError(`expected an integer ${range}, got "${value}".`);
    }
    return parsed;
  };
}
