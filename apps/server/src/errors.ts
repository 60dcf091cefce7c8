import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** The one error shape every route answers with: `{ error: { code, message } }`. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** An error the client can act on: answered with its status and code, never logged as a server fault. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, code = 'bad_request') => new ApiError(400, code, message);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);
export const payloadTooLarge = (message: string) => new ApiError(413, 'payload_too_large', message);

/** Fastify's and its plugins' own 4xx errors, with the code and message a client should see. */
const FRAMEWORK_ERRORS: Record<string, { code: string; message?: string; status?: number }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', message: 'the request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'invalid_json',
    message: 'the request body is empty but its content-type is application/json',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    message: 'send the body as application/json (uploads: multipart/form-data)',
  },
  FST_ERR_BAD_URL: { code: 'bad_request', message: 'the URL is not valid: a %-escape does not decode' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', message: 'the request body is too large' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'bad_request' },
  FST_PARTS_LIMIT: { code: 'payload_too_large', message: 'too many parts in the multipart upload' },
  FST_FILES_LIMIT: { code: 'payload_too_large', message: 'too many files in one upload' },
  FST_FIELDS_LIMIT: { code: 'payload_too_large', message: 'too many fields in the multipart upload' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: {
    code: 'unsupported_media_type',
    status: 415,
    message: 'uploads must be sent as multipart/form-data',
  },
  FST_PROTO_VIOLATION: { code: 'bad_request', message: 'a multipart field name is not allowed' },
  FST_BEARER_AUTH_MISSING_AUTHORIZATION_HEADER: { code: 'unauthorized' },
  FST_BEARER_AUTH_INVALID_AUTHORIZATION_HEADER: { code: 'unauthorized' },
};

/** A message on one line: a decoder's or a reader's details may run over several. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * Maps every error to the JSON error shape. Anything the client caused (schema violations, unparsable bodies,
 * oversized uploads, ApiErrors) keeps its 4xx status; only the server's own faults become a 500, logged, with
 * no internals in the message.
 */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof ApiError) {
    reply.status(error.statusCode).send(errorBody(error.code, error.message));
    return;
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    reply.status(400).send(errorBody('invalid_request', fastifyError.message));
    return;
  }
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const known = fastifyError.code ? FRAMEWORK_ERRORS[fastifyError.code] : undefined;
    const message = known?.message ?? fastifyError.message;
    reply.status(known?.status ?? status).send(errorBody(known?.code ?? codeForStatus(status), message));
    return;
  }
  request.log.error({ err: error }, 'request failed');
  reply.status(500).send(errorBody('internal_error', 'internal server error'));
}

/**
 * What the HTTP parser refuses before fastify sees a request (a bad content-length, headers over Node's limit: 431),
 * answered on the socket in the JSON error shape: fastify's `clientErrorHandler` option.
 */
export function handleClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const message =
    status === 431 ? 'the request headers (or its URL) are too large' : 'the request is not valid HTTP';
  const body = JSON.stringify(errorBody(status === 431 ? 'headers_too_large' : 'bad_request', message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): void {
  reply.status(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
}

function codeForStatus(status: number): string {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'too_many_requests';
    default:
      return 'bad_request';
  }
}

/** Formats schema violations as "body.name must match pattern …; body.limit must be <= 100". */
export function formatSchemaErrors(
  errors: readonly {
    instancePath: string;
    message?: string;
    params?: Record<string, unknown>;
    keyword?: string;
  }[],
  dataVariable: string,
): Error {
  const parts = errors.map((error) => {
    const path = `${dataVariable}${error.instancePath.replace(/\//g, '.')}`;
    const extra =
      error.keyword === 'additionalProperties' && error.params?.additionalProperty !== undefined
        ? `: "${String(error.params.additionalProperty)}"`
        : error.keyword === 'enum' && Array.isArray(error.params?.allowedValues)
          ? ` (${(error.params.allowedValues as unknown[]).join(', ')})`
          : '';
    return `${path} ${error.message ?? 'is invalid'}${extra}`;
  });
  return new Error(parts.join('; '));
}
