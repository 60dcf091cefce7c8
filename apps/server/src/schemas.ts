/*
 * JSON schemas of every route's input and output: fastify validates requests against them (a violation is a 400
 * naming the field), serializes responses through them, and @fastify/swagger turns them into /openapi.json.
 */

import { CATALOG_QUERY_MAX_LENGTH } from './catalog-filter';

/** Collection names become folder names: lower-case, no dots (so no `..`, no hidden or temporary folders). */
export const COLLECTION_NAME_PATTERN = '^[a-z0-9][a-z0-9-_]{0,63}$';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

/** Every route may answer a 4xx (and, for faults of the server, a 500) with the error shape. */
export const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const;

const collectionName = { type: 'string', pattern: COLLECTION_NAME_PATTERN } as const;

export const collectionParams = {
  type: 'object',
  required: ['name'],
  properties: { name: collectionName },
} as const;

export const collectionRecordSchema = {
  type: 'object',
  required: ['name', 'method', 'items', 'status'],
  properties: {
    name: { type: 'string' },
    method: { type: 'string' },
    items: { type: 'integer', description: 'Items served (or being built, while a first build runs).' },
    status: { type: 'string', enum: ['ready', 'building', 'failed'] },
    error: {
      type: 'string',
      description:
        'Why the last build or the load at start failed. With status ready, the previous state is still served.',
    },
    builtAt: { type: 'string', format: 'date-time', description: 'When the served state was built.' },
  },
} as const;

export const healthSchema = {
  response: {
    200: {
      type: 'object',
      required: ['status', 'collections', 'sessions', 'uptimeSeconds'],
      properties: {
        status: { type: 'string', enum: ['ok'] },
        collections: { type: 'integer' },
        sessions: { type: 'integer' },
        uptimeSeconds: { type: 'number' },
      },
    },
  },
} as const;

/** `GET /v1/metrics`: Prometheus text (no JSON schema: the body is not JSON). */
export const metricsSchema = {
  tags: ['server'],
  summary: 'Prometheus metrics',
  description:
    'Text exposition format 0.0.4: cir_turns_total, cir_turn_errors_total and cir_turn_duration_seconds by ' +
    'collection (the errors also by kind: client for a 4xx answer, server for the others), cir_sessions_open, ' +
    'cir_collections by status, and the process metrics (process_*, nodejs_*: CPU, ' +
    'memory, event-loop lag, garbage-collection pauses).',
  produces: ['text/plain'],
  response: {
    200: {
      description: 'Prometheus text, format 0.0.4',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
  },
} as const;

export const methodsSchema = {
  response: {
    200: {
      type: 'object',
      required: ['methods', 'default'],
      properties: { methods: { type: 'array', items: { type: 'string' } }, default: { type: 'string' } },
    },
    ...errorResponses,
  },
} as const;

export const listCollectionsSchema = {
  response: {
    200: {
      type: 'object',
      required: ['collections'],
      properties: { collections: { type: 'array', items: collectionRecordSchema } },
    },
    ...errorResponses,
  },
} as const;

export const createCollectionSchema = {
  body: {
    type: 'object',
    required: ['name', 'catalog'],
    additionalProperties: false,
    properties: {
      name: collectionName,
      catalog: {
        type: 'string',
        minLength: 1,
        maxLength: 4096,
        description:
          'A folder on the server: images at its top level or under images/, optional captions.jsonl.',
      },
      method: { type: 'string', minLength: 1, maxLength: 100 },
      replace: { type: 'boolean', default: false },
    },
  },
  response: {
    202: {
      type: 'object',
      required: ['name', 'status'],
      properties: { name: { type: 'string' }, status: { type: 'string', enum: ['building'] } },
    },
    ...errorResponses,
  },
} as const;

export const uploadImagesSchema = {
  params: collectionParams,
  consumes: ['multipart/form-data'],
  description:
    'multipart/form-data: one or more image files (PNG, JPEG, WebP); text field `caption` (every file) or ' +
    '`caption:<file name>` (one file). The item id is the file name without its extension; an existing id is ' +
    'replaced. Answers 202 with the ids given to the files and rebuilds the collection in the background.',
  response: {
    202: {
      type: 'object',
      required: ['name', 'status', 'added'],
      properties: {
        name: { type: 'string' },
        status: { type: 'string', enum: ['building'] },
        added: { type: 'array', items: { type: 'string' }, description: 'Item ids of the uploaded files.' },
      },
    },
    ...errorResponses,
  },
} as const;

export const collectionSchema = {
  params: collectionParams,
  response: { 200: collectionRecordSchema, ...errorResponses },
} as const;

export const deleteCollectionSchema = {
  params: collectionParams,
  response: { 204: { type: 'null' }, ...errorResponses },
} as const;

export const listItemsSchema = {
  params: collectionParams,
  querystring: {
    type: 'object',
    properties: {
      offset: { type: 'integer', minimum: 0, default: 0 },
      limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
      q: {
        type: 'string',
        maxLength: CATALOG_QUERY_MAX_LENGTH,
        description:
          'Only the items whose id or caption has, for each word of q, a word starting with it (case ignored), e.g. "red sleev". `total` counts them.',
      },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['total', 'items'],
      properties: {
        total: { type: 'integer' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id', 'imageUrl'],
            properties: { id: { type: 'string' }, caption: { type: 'string' }, imageUrl: { type: 'string' } },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const imageSchema = {
  params: {
    type: 'object',
    required: ['name', 'id'],
    properties: { name: collectionName, id: { type: 'string', minLength: 1, maxLength: 512 } },
  },
  querystring: {
    type: 'object',
    properties: {
      v: {
        type: 'string',
        pattern: '^[0-9a-z]{1,16}$',
        description:
          'The collection state the URL was given for (the imageUrl of items and turns carries it): its image even after a rebuild, while sessions opened on it remain, cacheable for good; without it, or for a state no longer kept, the served image.',
      },
    },
  },
  produces: ['image/png', 'image/jpeg', 'image/webp'],
  response: {
    200: { description: 'The image file, with its content-type.', type: 'string', format: 'binary' },
    ...errorResponses,
  },
} as const;

const resultSchema = {
  type: 'object',
  required: ['id', 'score', 'imageUrl'],
  properties: {
    id: { type: 'string' },
    score: { type: 'number' },
    imageUrl: { type: 'string' },
    caption: { type: 'string' },
  },
} as const;

const returnedToSchema = {
  type: 'string',
  description:
    'Set when the text returned to an earlier item of the session ("go back to the second one, …"): that item, which the turn started from instead of referenceId.',
} as const;

const turnRecordSchema = {
  type: 'object',
  required: ['turn', 'referenceId', 'text', 'results'],
  properties: {
    turn: { type: 'integer' },
    referenceId: { type: 'string' },
    returnedTo: returnedToSchema,
    text: { type: 'string' },
    results: { type: 'array', items: resultSchema },
  },
} as const;

const sessionParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export const createSessionSchema = {
  body: {
    type: 'object',
    required: ['collection'],
    additionalProperties: false,
    properties: { collection: collectionName },
  },
  response: {
    201: {
      type: 'object',
      required: ['id', 'collection'],
      properties: { id: { type: 'string' }, collection: { type: 'string' } },
    },
    ...errorResponses,
  },
} as const;

export const sessionSchema = {
  params: sessionParams,
  response: {
    200: {
      type: 'object',
      required: ['id', 'collection', 'turns'],
      properties: {
        id: { type: 'string' },
        collection: { type: 'string' },
        turns: { type: 'array', items: turnRecordSchema },
      },
    },
    ...errorResponses,
  },
} as const;

export const turnSchema = {
  params: sessionParams,
  body: {
    type: 'object',
    required: ['text'],
    additionalProperties: false,
    properties: {
      referenceId: {
        type: 'string',
        minLength: 1,
        maxLength: 512,
        description: 'The item picked as the reference; the previous turn’s best result when absent.',
      },
      // At least one character that is not white space: "   " describes no change.
      text: { type: 'string', minLength: 1, maxLength: 2000, pattern: '\\S' },
      limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['turn', 'results'],
      properties: {
        turn: { type: 'integer' },
        results: { type: 'array', items: resultSchema },
        returnedTo: returnedToSchema,
      },
    },
    ...errorResponses,
  },
} as const;

export const rollbackSchema = {
  params: sessionParams,
  body: {
    type: 'object',
    required: ['turn'],
    additionalProperties: false,
    properties: {
      turn: {
        type: 'integer',
        minimum: 0,
        description: 'The turn to make the latest again; 0 empties the session.',
      },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['turn', 'turns'],
      properties: { turn: { type: 'integer' }, turns: { type: 'array', items: turnRecordSchema } },
    },
    ...errorResponses,
  },
} as const;

export const deleteSessionSchema = {
  params: sessionParams,
  response: { 204: { type: 'null' }, ...errorResponses },
} as const;
