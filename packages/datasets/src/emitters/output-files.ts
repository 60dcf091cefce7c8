import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '@cir/core-tensor';

/**
 * Writes a generated file atomically (core-tensor's `writeFileAtomic`: temporary file, fsync, rename), so a killed
 * run never leaves a half-written file under its final name; the folder is created first.
 */
export async function writeTextFile(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, text);
}

/** `value` as JSON with a final newline: compact by default, as data files of hundreds of thousands of records are. */
export async function writeJsonFile(file: string, value: unknown, indent?: number): Promise<void> {
  await writeTextFile(file, `${JSON.stringify(value, null, indent)}\n`);
}
