// Which turn's image the MIO memory keeps tokens from, for 3-turn sessions of random catalog items (plain) and for
// rollback-shaped ones (the third reference is the first or the second image again). Evidence for the ablation
// note: DPC-kNN keeps tokens by density, not by relevance to the current turn.
//
// Usage (after `npx turbo run build`): node benchmarks/analysis/mio-token-provenance.mjs <model dir> <encoder dir>
//   <collection retriever dir>, e.g. world/models/mai-… world/encoder world/server/collections/demo/retriever
import { initBackend, Rng } from '../../packages/core-tensor/dist/index.js';
import { selectTokens } from '../../packages/mio/dist/index.js';
import { MaiRetriever } from '../../packages/models-mai/dist/index.js';

const [modelDirectory, encoderDirectory, retrieverDirectory] = process.argv.slice(2);
if (!retrieverDirectory) {
  console.error('usage: mio-token-provenance.mjs <model dir> <encoder dir> <collection retriever dir>');
  process.exit(2);
}
await initBackend();
const retriever = await MaiRetriever.fromFolders(modelDirectory, encoderDirectory);
await retriever.load(retrieverDirectory);
const { queries, dim, mioNeighbours } = retriever.model.config;
const ids = retriever.tokens.ids;
const rng = new Rng(5);

/** The turn (0-based) each kept memory token came from, after MIO over the given references. */
function provenance(references) {
  let memory;
  let sources;
  references.forEach((id, turn) => {
    const current = retriever.itemTokens(id).aggregated;
    if (!memory) {
      memory = current.slice();
      sources = Array(queries).fill(turn);
      return;
    }
    const combined = new Float32Array(2 * queries * dim);
    combined.set(memory, 0);
    combined.set(current, queries * dim);
    const combinedSources = [...sources, ...Array(queries).fill(turn)];
    const kept = selectTokens(combined, [1, 2 * queries, dim], queries, { k: mioNeighbours });
    memory = new Float32Array(queries * dim);
    sources = [];
    kept.forEach((index, slot) => {
      memory.set(combined.subarray(index * dim, (index + 1) * dim), slot * dim);
      sources.push(combinedSources[index]);
    });
  });
  return sources;
}

const pick = () => ids[rng.int(ids.length)];
const shapes = {
  '3 different images': () => [pick(), pick(), pick()],
  'rollback, 3rd = 1st image': () => {
    const first = pick();
    return [first, pick(), first];
  },
  'rollback, 3rd = 2nd image': () => {
    const second = pick();
    return [pick(), second, second];
  },
};
const sessions = 500;
for (const [name, make] of Object.entries(shapes)) {
  const counts = [0, 0, 0];
  for (let session = 0; session < sessions; session++) for (const turn of provenance(make())) counts[turn]++;
  const shares = counts.map((count) => `${((count / sessions / queries) * 100).toFixed(1)} %`);
  console.log(`${name}: kept tokens from the 1st / 2nd / 3rd image: ${shares.join(' / ')}`);
}
