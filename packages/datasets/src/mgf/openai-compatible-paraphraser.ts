import { PARAPHRASE_PROMPT, type Paraphraser } from './paraphraser';

export interface OpenAiCompatibleOptions {
  /** The API root, e.g. "http://127.0.0.1:8080/v1" (llama.cpp server, vLLM, Ollama, OpenAI). */
  baseUrl: string;
  model: string;
  /** Sent as a bearer token when given; local servers usually need none. */
  apiKey?: string;
  /** System prompt; default `PARAPHRASE_PROMPT`. */
  prompt?: string;
  /** Sampling temperature; default 0.7, as MAI's modification generator. */
  temperature?: number;
}

/**
 * Paraphrases through an OpenAI-compatible `POST {baseUrl}/chat/completions` endpoint. A failed request throws (a
 * misconfigured endpoint should stop a run, not degrade every text silently); a reworded answer that loses the
 * structure is caught by `paraphraseModification`.
 */
export class OpenAiCompatibleParaphraser implements Paraphraser {
  readonly name: string;

  constructor(private readonly options: OpenAiCompatibleOptions) {
    this.name = `openai-compatible:${options.model}`;
  }

  async paraphrase(text: string): Promise<string> {
    const url = `${this.options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: this.options.model,
        temperature: this.options.temperature ?? 0.7,
        messages: [
          { role: 'system', content: this.options.prompt ?? PARAPHRASE_PROMPT },
          { role: 'user', content: text },
        ],
      }),
    });
    if (!response.ok) {
      const body = (await response.text()).slice(0, 200);
      throw new Error(`${url} answered ${response.status} ${response.statusText}: ${body}`);
    }
    const answer = (await response.json()) as { choices?: { message?: { content?: unknown } }[] };
    const content = answer.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new Error(`${url} answered without choices[0].message.content`);
    return content;
  }
}
