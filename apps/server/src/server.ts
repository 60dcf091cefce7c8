import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RetrieverProvider } from '@cir/index';
import fastifyBearerAuth from '@fastify/bearer-auth';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { CollectionRegistry } from './collections';
import { errorBody, formatSchemaErrors, handleClientError, handleError, handleNotFound } from './errors';
import { ServerMetrics } from './metrics';
import { collectionRoutes } from './routes/collection-routes';
import { sessionRoutes } from './routes/session-routes';
import { webRoutes } from './routes/web-routes';
import { healthSchema, metricsSchema } from './schemas';
import { SessionRegistry } from './sessions';
import { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_PIXELS, MAX_FILES_PER_UPLOAD } from './upload-images';
import { strictBodyValidatorFactory } from './validation';
import { WEB_FOLDER } from './web-folder';

export interface ServerOptions {
  /** Where collections live (`<dataDir>/collections/<name>/`); created when missing. */
  dataDir: string;
  /** Builds a retriever per collection by method name. */
  provider: RetrieverProvider;
  /** When set, every `/v1/*` route needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Idle time after which a session is forgotten; every use restarts it. Default 30 minutes. */
  sessionTtlMs?: number;
  /** Sessions held at once; opening one more answers 503. Default 10,000. */
  maxSessions?: number;
  /** Largest uploaded file in bytes. Default 10 MiB. */
  maxUploadBytes?: number;
  /** Largest uploaded image in pixels (width × height, read from its header). Default 40 million. */
  maxUploadPixels?: number;
  /** Catalog folders must lie inside it (relative ones resolve against it). Default: any folder. */
  catalogRoot?: string;
  /** Fastify's logger (pino options, or true). Default off. */
  logger?: FastifyServerOptions['logger'];
  /** The web page's folder. Default: `web/` beside this module (src/web or dist/web). */
  webFolder?: string;
  /** Called while a collection build encodes its gallery (e.g. the CLI's progress bar). */
  onBuildProgress?: (name: string, done: number, total: number) => void;
}

/** The fastify instance, with the collections and sessions it serves. */
export type CirServer = FastifyInstance & {
  readonly collections: CollectionRegistry;
  readonly sessions: SessionRegistry;
};

/**
 * Creates the HTTP server (not yet listening: call `listen`, or `inject` in tests). Reloads every collection of
 * `dataDir` first. `close()` stops accepting connections, waits for in-flight requests and queued builds, and
 * stops the session sweeper.
 */
export async function createServer(options: ServerOptions): Promise<CirServer> {
  const dataDir = resolve(options.dataDir);
  const app = Fastify({
    logger: options.logger ?? false,
    // Unknown body fields are refused rather than silently dropped, so a misspelt field is a 400.
    ajv: { customOptions: { removeAdditional: false } },
    // Nor are a body's types coerced: "limit": "5" is a 400 too.
    schemaController: { compilersFactory: { buildValidator: strictBodyValidatorFactory() } },
    schemaErrorFormatter: (errors, dataVariable) => formatSchemaErrors(errors, dataVariable),
    // Answered below in the JSON error shape.
    return503OnClosing: false,
    // Item ids reach 128 characters in uploads and more from catalog file names: let the schemas (512 for an image
    // id, 100 for a session id) answer a 400, instead of the router's 414 at 100 characters.
    routerOptions: { maxParamLength: 2048 },
    // Errors raised before routing (a URL that does not decode) and by the HTTP parser, in the JSON error shape too.
    frameworkErrors: handleError,
    clientErrorHandler: handleClientError,
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (closing) {
      return reply.status(503).send(errorBody('shutting_down', 'the server is shutting down'));
    }
  });
  // A keep-alive connection whose request was in flight when closing began would otherwise hold close() open
  // until the client lets go of it.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'cir server',
        description: 'Interactive multi-turn composed image retrieval over HTTP.',
        version: '1',
      },
      tags: [
        { name: 'collections', description: 'Catalogs indexed by a retrieval method' },
        { name: 'sessions', description: 'Multi-turn conversations with a collection' },
        { name: 'server', description: 'Health, methods and metrics of the server itself' },
      ],
      ...(options.token !== undefined && {
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearerAuth: [] }],
      }),
    },
  });
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  await app.register(fastifyMultipart, {
    // Over-long files are reported by the upload route, naming the file and the limit.
    throwFileSizeLimit: false,
    limits: { fileSize: maxUploadBytes, files: MAX_FILES_PER_UPLOAD, fields: 2 * MAX_FILES_PER_UPLOAD },
  });

  const collections = await CollectionRegistry.open({
    dataDir,
    provider: options.provider,
    ...(options.catalogRoot !== undefined && { catalogRoot: options.catalogRoot }),
    log: app.log,
    ...(options.onBuildProgress && { onBuildProgress: options.onBuildProgress }),
  });
  const sessions = new SessionRegistry({
    ...(options.sessionTtlMs !== undefined && { ttlMs: options.sessionTtlMs }),
    ...(options.maxSessions !== undefined && { maxSessions: options.maxSessions }),
    onTurn: (collection, ms, error) => metrics.observeTurn(collection, ms, error),
  });
  const metrics = new ServerMetrics(collections, sessions);
  const stagingRoot = join(dataDir, 'uploads');
  // Uploads staged by a previous process never made it into a build.
  await rm(stagingRoot, { recursive: true, force: true });
  app.decorate('collections', collections);
  app.decorate('sessions', sessions);
  app.addHook('onClose', async () => {
    sessions.close();
    await collections.whenIdle();
  });

  const started = performance.now();
  app.get('/health', { schema: { security: [], ...healthSchema } }, async () => ({
    status: 'ok' as const,
    collections: collections.size,
    sessions: sessions.count(),
    uptimeSeconds: Math.round((performance.now() - started) / 100) / 10,
  }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(
    async (api) => {
      if (options.token !== undefined) {
        await api.register(fastifyBearerAuth, {
          keys: [options.token],
          // The plugin's types insist on `{ error: string }`; it sends whatever the function returns.
          errorResponse: unauthorizedBody as unknown as (error: Error) => { error: string },
        });
      }
      await api.register(collectionRoutes, {
        collections,
        sessions,
        stagingRoot,
        limits: { maxBytes: maxUploadBytes, maxPixels: options.maxUploadPixels ?? DEFAULT_MAX_UPLOAD_PIXELS },
      });
      await api.register(sessionRoutes, { collections, sessions });
      api.get('/metrics', { schema: metricsSchema }, async (_request, reply) =>
        reply.type(metrics.contentType).send(await metrics.text()),
      );
    },
    { prefix: '/v1' },
  );
  await app.register(webRoutes, { folder: options.webFolder ?? WEB_FOLDER });
  return app as unknown as CirServer;
}

function unauthorizedBody(error: Error) {
  return errorBody(
    'unauthorized',
    /missing/i.test(error.message)
      ? 'this server needs an Authorization: Bearer <token> header'
      : 'the bearer token is not valid',
  );
}

export interface StartServerOptions extends ServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Close gracefully on SIGINT / SIGTERM, then let the signal end the process. Default true. */
  handleSignals?: boolean;
}

export interface StartedServer {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  app: CirServer;
  /** Stops accepting connections, waits for in-flight requests and queued builds. */
  close(): Promise<void>;
}

/** Creates the server and listens; with `handleSignals`, SIGINT and SIGTERM close it gracefully first. */
export async function startServer(options: StartServerOptions): Promise<StartedServer> {
  const app = await createServer(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 8080 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    void close().then(() => {
      // Our listeners are gone: sending the signal again ends the process the way it would have ended.
      process.kill(process.pid, signal);
    });
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await app.close();
    })();
    return closing;
  };
  if (options.handleSignals ?? true) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return { url, app, close };
}
