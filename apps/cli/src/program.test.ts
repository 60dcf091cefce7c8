import { type Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram, throwInsteadOfExit } from './program';

/** Runs `cir …args` in process with commander's output captured; returns it and the exit code commander asked for. */
async function run(...args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  const program = createProgram();
  throwInsteadOfExit(program);
  let out = '';
  let err = '';
  const capture = (command: Command) => {
    command.configureOutput({ writeOut: (text) => (out += text), writeErr: (text) => (err += text) });
    for (const subcommand of command.commands) capture(subcommand);
  };
  capture(program);
  try {
    await program.parseAsync(['node', 'cir', ...args]);
    return { out, err, exitCode: 0 };
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { out, err, exitCode: error.exitCode };
  }
}

describe('cir help', () => {
  it('shows the help of a command, of a subcommand, or of the program', async () => {
    const program = await run('help');
    expect(program.exitCode).toBe(0);
    expect(program.out).toMatch(/^Usage: cir \[options\] \[command\]/);
    expect(program.out).toMatch(/help \[command\.\.\.\]\s+display help for command/);

    const group = await run('help', 'index');
    expect(group).toMatchObject({ exitCode: 0, err: '' });
    expect(group.out).toMatch(/^Usage: cir index \[options\] \[command\]/);

    // A command inside a group, from the program and from the group.
    for (const args of [
      ['help', 'index', 'build'],
      ['index', 'help', 'build'],
    ]) {
      const build = await run(...args);
      expect(build).toMatchObject({ exitCode: 0, err: '' });
      expect(build.out).toMatch(/^Usage: cir index build \[options\]/);
      expect(build.out).toContain('--catalog');
    }
  });

  it('names an unknown command and exits 2, without printing the whole help', async () => {
    for (const [args, name] of [
      [['help', 'nope'], 'nope'],
      [['help', 'index', 'nope'], 'nope'],
      [['index', 'help', 'nope'], 'nope'],
      [['help', 'query', 'extra'], 'extra'],
    ] as const) {
      const { out, err, exitCode } = await run(...args);
      expect(exitCode, args.join(' ')).toBe(2);
      expect(out).toBe('');
      expect(err).toContain(`error: unknown command '${name}'`);
      expect(err).not.toContain('Usage:');
    }
  });
});
