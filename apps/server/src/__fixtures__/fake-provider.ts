import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ComposedRetriever,
  GalleryItem,
  RetrievalSession,
  RetrieverProvider,
  TurnInput,
  TurnResult,
} from '@cir/index';

export interface FakeProviderOptions {
  /** Each turn waits this long, so that a test can catch a request in flight. */
  turnDelayMs?: number;
}

/**
 * A retriever without a model, for tests of the server's own behaviour (sessions, shutdown): scores are a hash of
 * (query, item), so rankings are deterministic and differ between turns.
 */
export function fakeProvider(options: FakeProviderOptions = {}): RetrieverProvider {
  return {
    methods: ['fake', 'fake-other'],
    async create(method) {
      if (method !== 'fake' && method !== 'fake-other') {
        throw new Error(`unknown method "${method}" (known: fake, fake-other)`);
      }
      return new FakeRetriever(method, options);
    },
  };
}

class FakeRetriever implements ComposedRetriever {
  ids: string[] = [];
  /** How often `dispose` was called (the server must call it once, after the last user). */
  disposals = 0;

  constructor(
    readonly name: string,
    readonly options: FakeProviderOptions,
  ) {}

  async encodeGallery(
    items: readonly GalleryItem[],
    options: { onProgress?: (done: number, total: number) => void } = {},
  ): Promise<void> {
    this.ids = items.map((item) => item.id);
    options.onProgress?.(items.length, items.length);
  }

  openSession(): RetrievalSession {
    return new FakeSession(this);
  }

  async save(directory: string): Promise<void> {
    await writeFile(join(directory, 'fake.json'), JSON.stringify(this.ids));
  }

  async load(directory: string): Promise<void> {
    this.ids = JSON.parse(await readFile(join(directory, 'fake.json'), 'utf8'));
  }

  dispose(): void {
    this.disposals++;
  }
}

class FakeSession implements RetrievalSession {
  readonly id = randomUUID();
  private turns: { turn: number; referenceId?: string; text: string }[] = [];
  private best: string | undefined;

  constructor(private readonly retriever: FakeRetriever) {}

  history() {
    return this.turns;
  }

  async turn(input: TurnInput): Promise<TurnResult> {
    if (this.retriever.options.turnDelayMs) {
      await new Promise((resolve) => setTimeout(resolve, this.retriever.options.turnDelayMs));
    }
    const referenceId = input.referenceId ?? this.best;
    if (!referenceId) throw new Error('the first turn needs a referenceId');
    const query = `${referenceId}|${input.text}|${this.turns.length}`;
    const results = this.retriever.ids
      .map((id) => ({ id, score: (hashString(`${query}|${id}`) % 1000) / 1000 }))
      .sort((left, right) => right.score - left.score || (left.id < right.id ? -1 : 1))
      .slice(0, input.limit ?? 10);
    const turn = this.turns.length + 1;
    this.turns.push({ turn, referenceId, text: input.text });
    this.best = results[0]?.id;
    return { turn, results };
  }

  async rollback(turn: number): Promise<void> {
    this.turns = this.turns.slice(0, turn);
    this.best = undefined;
  }
}

/** FNV-1a: a stable hash without importing a tensor library. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
