import { existsSync, statSync } from 'node:fs';
import { PARAPHRASE_PROMPT, type Paraphraser } from './paraphraser';

export interface LlamaCppOptions {
  /** A local GGUF file; nothing is downloaded. */
  modelPath: string;
  /** System prompt; default `PARAPHRASE_PROMPT`. */
  prompt?: string;
  /** Sampling temperature; default 0.7, as MAI's modification generator. */
  temperature?: number;
}

/** The slice of node-llama-cpp 3 this paraphraser uses. */
interface NodeLlamaCpp {
  getLlama(): Promise<{ loadModel(options: { modelPath: string }): Promise<LlamaModel> }>;
  LlamaChatSession: new (options: { contextSequence: unknown; systemPrompt?: string }) => LlamaChatSession;
}
interface LlamaModel {
  createContext(): Promise<{ getSequence(): unknown }>;
}
interface LlamaChatSession {
  prompt(text: string, options?: { temperature?: number }): Promise<string>;
  resetChatHistory(): void;
}

/**
 * Paraphrases with a local GGUF model through node-llama-cpp, which is an optional peer: it is imported when the
 * first text is paraphrased, so the package installs and runs without it. The model loads once; every text starts
 * from a fresh chat history so earlier texts neither leak into nor overflow the context.
 *
 * @throws Error at construction when the GGUF file does not exist, and on the first paraphrase when
 * node-llama-cpp is not installed.
 */
export class LlamaCppParaphraser implements Paraphraser {
  readonly name: string;
  private session: Promise<LlamaChatSession> | undefined;

  constructor(private readonly options: LlamaCppOptions) {
    if (!existsSync(options.modelPath) || !statSync(options.modelPath).isFile()) {
      throw new Error(`GGUF model file not found: ${options.modelPath}`);
    }
    this.name = `llama-cpp:${options.modelPath}`;
  }

  async paraphrase(text: string): Promise<string> {
    this.session ??= this.load();
    const session = await this.session;
    session.resetChatHistory();
    return session.prompt(text, { temperature: this.options.temperature ?? 0.7 });
  }

  private async load(): Promise<LlamaChatSession> {
    const library = await importNodeLlamaCpp();
    const llama = await library.getLlama();
    const model = await llama.loadModel({ modelPath: this.options.modelPath });
    const context = await model.createContext();
    return new library.LlamaChatSession({
      contextSequence: context.getSequence(),
      systemPrompt: this.options.prompt ?? PARAPHRASE_PROMPT,
    });
  }
}

async function importNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  // A variable specifier keeps TypeScript and the bundler from resolving a package that is not a dependency.
  const specifier = 'node-llama-cpp';
  try {
    return (await import(specifier)) as NodeLlamaCpp;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(
        'node-llama-cpp is not installed; it is optional. Install it (npm install node-llama-cpp@3) to paraphrase ' +
          'with a GGUF model, or use an OpenAI-compatible endpoint instead.',
      );
    }
    throw error;
  }
}
