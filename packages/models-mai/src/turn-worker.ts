/**
 * A turn worker: the thread that `TurnWorkerClient` starts. It loads the mini encoder and a copy of the MAI model
 * (`TurnWorkerInit`), says `{ready}`, then answers each `TurnWorkerRequest` with `TurnComposer.compose` — the same
 * code, and so the same queries and memories, as on the main thread. Built as `dist/turn-worker.js`.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { getHeapSpaceStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { withComputeThreads } from '@cir/core-tensor';
import { MiniClipEncoder } from '@cir/encoders';
import { DEFAULT_MAI_CONFIG } from './config';
import { MaiModel } from './mai-model';
import { TurnComposer } from './turn-composer';
import {
  TURN_WORKER_NICE,
  type TurnWorkerInit,
  type TurnWorkerMessage,
  type TurnWorkerRequest,
} from './turn-worker-client';

// Before the model loads: the young generation's starting size (TURN_WORKER_SEMI_SPACE_MB), not how it grew.
const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
const port = parentPort;
if (!port) throw new Error('turn-worker.js runs as a worker thread (TurnWorkerClient starts it)');
const post = (message: TurnWorkerMessage) => port.postMessage(message);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Asks for `nice` for this thread alone (Linux: setpriority with the thread's id), and says what it runs at: see
 * TURN_WORKER_NICE. Elsewhere (no /proc/thread-self) it leaves the priority alone.
 */
function prioritize(nice: number): { nice?: number; niceError?: string } {
  let thread: number;
  try {
    // "<pid>/task/<tid>"
    thread = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    return {};
  }
  try {
    setPriority(thread, nice);
    return { nice: getPriority(thread) };
  } catch (error) {
    return { nice: getPriority(thread), niceError: messageOf(error) };
  }
}

async function start(init: TurnWorkerInit): Promise<TurnComposer> {
  const encoder = await MiniClipEncoder.load(init.encoderDirectory);
  if (encoder.id !== init.encoderId) {
    throw new Error(
      `${init.encoderDirectory} holds encoder ${encoder.id}, the model was served with ${init.encoderId}`,
    );
  }
  const model = new MaiModel({ ...DEFAULT_MAI_CONFIG, ...init.config });
  model.importParameters(init.parameters);
  return new TurnComposer(model, encoder);
}

try {
  const composer = await start(workerData as TurnWorkerInit);
  // One batch at a time (the client sends the next after this one's answer); one onnxruntime thread a call, as
  // on the main thread: the other core serves the requests.
  port.on('message', async ({ batch, turns }: TurnWorkerRequest) => {
    const composed = await withComputeThreads(1, () => composer.compose(turns));
    post({
      batch,
      results: composed.map((result) => ('error' in result ? { error: messageOf(result.error) } : result)),
    });
  });
  post({
    ready: true,
    ...(newSpace && { newSpaceMb: newSpace.space_size / 2 ** 20 }),
    ...prioritize((workerData as TurnWorkerInit).nice ?? TURN_WORKER_NICE),
  });
} catch (error) {
  post({ failed: messageOf(error) });
}
