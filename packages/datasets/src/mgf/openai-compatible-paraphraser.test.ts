import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiCompatibleParaphraser } from './openai-compatible-paraphraser';
import { PARAPHRASE_PROMPT, paraphraseModification } from './paraphraser';

interface ReceivedRequest {
  url: string | undefined;
  authorization: string | undefined;
  body: { model: string; messages: { role: string; content: string }[] };
}

/** A local stand-in for an OpenAI-compatible server: `reply` decides each answer; requests are recorded. */
let reply: (text: string, response: ServerResponse) => void;
const received: ReceivedRequest[] = [];
let server: Server;
let baseUrl: string;

function answer(response: ServerResponse, content: string): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
}

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const parsed = JSON.parse(body) as ReceivedRequest['body'];
      received.push({ url: request.url, authorization: request.headers.authorization, body: parsed });
      reply(parsed.messages.at(-1)!.content, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('OpenAiCompatibleParaphraser', () => {
  it('posts the text with the prompt to /chat/completions and returns the answer', async () => {
    reply = (text, response) => answer(response, text.replace('is red', 'make it red'));
    received.length = 0;
    const paraphraser = new OpenAiCompatibleParaphraser({ baseUrl, model: 'tiny', apiKey: 'secret' });
    expect(paraphraser.name).toBe('openai-compatible:tiny');
    expect(await paraphraser.paraphrase('1. is red ')).toBe('1. make it red ');
    expect(received).toEqual([
      {
        url: '/v1/chat/completions',
        authorization: 'Bearer secret',
        body: {
          model: 'tiny',
          temperature: 0.7,
          messages: [
            { role: 'system', content: PARAPHRASE_PROMPT },
            { role: 'user', content: '1. is red ' },
          ],
        },
      },
    ]);
  });

  it('keeps the structure through paraphraseModification, falling back when the answer breaks it', async () => {
    const text =
      'Compared to this one I prefer the FIRST, and 1. is red 2. keep the logo in the second turn ';
    const paraphraser = new OpenAiCompatibleParaphraser({ baseUrl, model: 'tiny' });
    reply = (request, response) => answer(response, request.replace('1. is red', '1. in a deep red'));
    expect(await paraphraseModification(paraphraser, 'shirt', text)).toEqual({
      text: 'Compared to this one I prefer the FIRST, and 1. in a deep red 2. keep the logo in the second turn',
      fellBack: false,
    });
    reply = (_, response) => answer(response, 'Go back to the first one, make it red and keep its logo.');
    expect(await paraphraseModification(paraphraser, 'shirt', text)).toEqual({ text, fellBack: true });
  });

  it('throws on a failed request or an answer without content', async () => {
    const paraphraser = new OpenAiCompatibleParaphraser({ baseUrl, model: 'tiny' });
    reply = (_, response) => {
      response.writeHead(503, { 'content-type': 'text/plain' });
      response.end('model is loading');
    };
    await expect(paraphraser.paraphrase('1. is red ')).rejects.toThrow(/answered 503.*model is loading/);
    reply = (_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"choices": []}');
    };
    await expect(paraphraser.paraphrase('1. is red ')).rejects.toThrow(/without choices/);
  });
});
