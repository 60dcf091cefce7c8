import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { handleClientError, handleError } from './errors';

/** A reply that records what the handler sent. */
function recordingReply() {
  const sent: { status?: number; body?: unknown } = {};
  const reply = {
    status(code: number) {
      sent.status = code;
      return reply;
    },
    send(body: unknown) {
      sent.body = body;
      return reply;
    },
  };
  return { reply: reply as unknown as FastifyReply, sent };
}

/** A socket that records what was written to it. */
function recordingSocket(writable = true) {
  let written = '';
  const socket = {
    writable,
    end(chunk: string) {
      written += chunk;
    },
  };
  return { socket: socket as unknown as Duplex, written: () => written };
}

describe('handleError', () => {
  it('gives a 403 of a plugin the code "forbidden", in the JSON error shape', () => {
    const { reply, sent } = recordingReply();
    handleError(Object.assign(new Error('Forbidden'), { statusCode: 403 }), {} as FastifyRequest, reply);
    expect(sent).toEqual({ status: 403, body: { error: { code: 'forbidden', message: 'Forbidden' } } });
  });
});

describe('handleClientError', () => {
  it('answers what the HTTP parser refused in the JSON error shape, and closes the connection', () => {
    const overflow = recordingSocket();
    handleClientError(
      Object.assign(new Error('Header overflow'), { code: 'HPE_HEADER_OVERFLOW' }),
      overflow.socket,
    );
    const [head, body] = overflow.written().split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(head).toContain('Connection: close');
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body!)}`);
    expect(JSON.parse(body!)).toEqual({
      error: { code: 'headers_too_large', message: 'the request headers (or its URL) are too large' },
    });

    const invalid = recordingSocket();
    handleClientError(
      Object.assign(new Error('Invalid'), { code: 'HPE_INVALID_CONTENT_LENGTH' }),
      invalid.socket,
    );
    expect(invalid.written()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(invalid.written().split('\r\n\r\n')[1]!).error.code).toBe('bad_request');

    const closed = recordingSocket(false);
    handleClientError(new Error('gone'), closed.socket);
    expect(closed.written()).toBe('');
  });
});
