import { MiniClipEncoder } from '@cir/encoders';
import type { ComposedRetriever, RetrieverProvider } from '@cir/index';
import { FUSION_MODES, type FusionMode, FusionRetriever } from './fusion-retriever';
import { loadMaiModel } from './mai-files';
import { MaiRetriever } from './mai-retriever';

/**
 * The methods this package serves, by name: `mai` (a trained MAI model folder, when given) and the zero-shot
 * fusions `sum`, `text-only`, `image-only` over the same mini encoder. The encoder is loaded once and shared.
 * @param encoderDirectory a mini encoder folder (`cir train encoder` writes one)
 * @param modelDirectory a MAI model folder (`cir train mai` writes one); without it `sum` is the default method
 * @param turnWorker whether `mai` collections compute turns in a worker thread as well (default true; see
 *   TurnBatcher: more turns per second under concurrent load on a machine with two or more cores)
 */
export async function maiRetrieverProvider(options: {
  encoderDirectory: string;
  modelDirectory?: string;
  turnWorker?: boolean;
}): Promise<RetrieverProvider> {
  const encoder = await MiniClipEncoder.load(options.encoderDirectory);
  const modelDirectory = options.modelDirectory;
  if (modelDirectory) {
    // Fail at start, not at the first collection, when the model does not fit the encoder.
    const { model } = await loadMaiModel(modelDirectory, { expectedEncoderId: encoder.id });
    model.dispose();
  }
  const methods = [...(modelDirectory ? ['mai'] : []), ...FUSION_MODES];
  return {
    methods,
    async create(method: string): Promise<ComposedRetriever> {
      if (method === 'mai' && modelDirectory) {
        const { model } = await loadMaiModel(modelDirectory, { expectedEncoderId: encoder.id });
        return new MaiRetriever(model, encoder, {
          ...(options.turnWorker !== false && {
            turnWorker: { encoderDirectory: options.encoderDirectory },
          }),
        });
      }
      if ((FUSION_MODES as readonly string[]).includes(method)) {
        return new FusionRetriever(method as FusionMode, encoder);
      }
      throw new Error(`unknown method "${method}" (this server knows: ${methods.join(', ')})`);
    },
  };
}
