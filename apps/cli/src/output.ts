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
