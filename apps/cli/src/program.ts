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

/** Builds the `cir` command tree. */
export function createProgram(): Command {
  const program = new Command('cir')
    .version(cliVersion)
    .description(
      'Composed and multi-turn image retrieval: index a catalog, query it turn by turn ("like this one, but red"),\n' +
        'train and evaluate MAI, CoLLM, CIR-LVLM and DAR on the standard benchmarks, and generate training data.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Environment:
  CIR_BACKEND     force a tfjs backend: tensorflow-gpu, tensorflow, wasm or cpu (default: fastest available)
  CIR_SHARED_DIR  folder holding benchmarks/ annotation files (default: ../shared)

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
  return program;
}
