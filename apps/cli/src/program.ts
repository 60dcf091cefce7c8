import { Command } from 'commander';
import { registerBench } from './commands/bench';
import { registerData } from './commands/data';
import { registerDemo } from './commands/demo';
import { registerDoctor } from './commands/doctor';
import { registerEval } from './commands/eval';
import { registerIndex } from './commands/index-command';
import { registerQuery } from './commands/query';
import { registerServe } from './commands/serve';
import { registerTrain } from './commands/train';
import { cliVersion } from './version';

/**
 * Makes `command` and its subcommands throw a `CommanderError` instead of exiting (help, version and usage errors),
 * so that the caller chooses the exit code; with `quiet`, commander's own error lines are not printed either.
 */
export function throwInsteadOfExit(command: Command, quiet = false): void {
  command.exitOverride();
  if (quiet) command.configureOutput({ writeErr: () => {} });
  for (const subcommand of command.commands) throwInsteadOfExit(subcommand, quiet);
}

/** Builds the `cir` command tree. */
export function createProgram(): Command {
  const program = new Command('cir')
    .version(cliVersion)
    .description(
      'Composed and multi-turn image retrieval: index a catalog, query it turn by turn ("like this one, but red"), ' +
        'train and evaluate MAI and its baselines on the standard benchmarks, and generate training data.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Environment:
  CIR_BACKEND     force a tfjs backend: tensorflow-gpu, tensorflow, wasm or cpu (default: fastest available)
  CIR_SHARED_DIR  folder holding benchmarks/ annotation files (default: ../shared)
  CIR_TOKEN       the bearer token "cir serve" requires (instead of --token)
  CIR_LLM_API_KEY key of the API behind "cir data generate --paraphrase-endpoint"
  CIR_DEMO_DIR    the demo "cir bench serve-load" serves (default ./cir-demo; --demo-dir overrides it)
  CIR_DEBUG       1: print the stack trace of an unexpected error

Exit codes: 0 success; 2 bad usage (an unknown command or option, a missing or invalid option value, an unknown
collection or item); 1 any other failure, such as an unreadable or invalid input file (the message names the file
and the record).

Start with:
  cir doctor      what this machine can run
  cir bench --all performance figures`,
    );
  registerDemo(program);
  registerDoctor(program);
  registerData(program);
  registerTrain(program);
  registerEval(program);
  registerIndex(program);
  registerQuery(program);
  registerServe(program);
  registerBench(program);
  replaceHelpCommands(program);
  return program;
}

/**
 * `cir help <command> [<subcommand>…]` on the program and on every command group. Commander's own help command
 * answers a name it does not know with the whole help on stderr and no word of what is wrong, and reads only one
 * name (`cir help index build` showed the help of `index`).
 */
function replaceHelpCommands(command: Command): void {
  if (command.commands.length === 0) return;
  for (const subcommand of command.commands) replaceHelpCommands(subcommand);
  command.helpCommand(false);
  command
    .command('help [command...]')
    .description('display help for command')
    .action((names: string[]) => {
      let target = command;
      for (const name of names) {
        const next = target.commands.find(
          (candidate) => candidate.name() === name || candidate.aliases().includes(name),
        );
        if (!next) {
          return target.error(`error: unknown command '${name}'`, {
            exitCode: 2,
            code: 'commander.unknownCommand',
          });
        }
        target = next;
      }
      target.help();
    });
}
