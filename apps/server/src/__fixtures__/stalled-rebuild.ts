import { initBackend } from '@cir/core-tensor';
import { MiniClipEncoder } from '@cir/encoders';
import type { ComposedRetriever, RetrieverProvider } from '@cir/index';
import { createServer } from '../server';
import { tinyProvider } from './tiny-world';
import { multipart, solidPng } from './uploads';

export type StallStage = 'encoded' | 'saved';

/** Never resolves; the timer keeps the process alive until the test kills it. */
const hang = () => new Promise<never>(() => setInterval(() => undefined, 60_000));

/**
 * A retriever that stops for good at `stage` of a build: after its first progress report once encoding is done
 * (`encoded`), or after writing its state into the build's temporary folder (`saved`).
 */
function stalling(retriever: ComposedRetriever, stage: StallStage): ComposedRetriever {
  return {
    name: retriever.name,
    openSession: () => retriever.openSession(),
    load: (directory) => retriever.load(directory),
    async encodeGallery(items, options = {}) {
      let reported = false;
      await retriever.encodeGallery(items, {
        onProgress: (done, total) => {
          options.onProgress?.(done, total);
          reported = true;
        },
      });
      if (stage === 'encoded' && reported) {
        process.stdout.write('stalled at encoded\n');
        await hang();
      }
    },
    async save(directory) {
      await retriever.save(directory);
      if (stage === 'saved') {
        process.stdout.write('stalled at saved\n');
        await hang();
      }
    },
  };
}

/** Run by stalled-rebuild-child.mjs in its own process. */
export async function stalledRebuild(
  dataDir: string,
  encoderDirectory: string,
  stage: StallStage,
): Promise<void> {
  await initBackend();
  const inner = tinyProvider(await MiniClipEncoder.load(encoderDirectory));
  const provider: RetrieverProvider = {
    methods: inner.methods,
    create: async (method) => stalling(await inner.create(method), stage),
  };
  const app = await createServer({ dataDir, provider });
  const { payload, headers } = await multipart([
    { name: 'late.png', bytes: await solidPng(32, [0, 128, 255]) },
  ]);
  const response = await app.inject({ method: 'POST', url: '/v1/collections/shop/images', payload, headers });
  if (response.statusCode !== 202) throw new Error(`upload refused: ${response.body}`);
  process.stdout.write('rebuild started\n');
}
