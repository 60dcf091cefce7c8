import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors';

const FALLBACK_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>cir server</title></head>
<body>
<h1>cir server</h1>
<p>The web page is not installed with this server. The HTTP API is under <code>/v1</code>;
its OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</p>
</body>
</html>
`;

/** `GET /` (the page) and `GET /web/*` (its scripts and styles); a small fallback page when it is missing. */
export async function webRoutes(app: FastifyInstance, options: { folder: string }): Promise<void> {
  const hasIndex = (await stat(join(options.folder, 'index.html')).catch(() => undefined))?.isFile() ?? false;
  if (!hasIndex) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(FALLBACK_PAGE),
    );
    app.get('/web/*', { schema: { hide: true } }, async (request, reply) =>
      reply
        .status(404)
        .send(errorBody('not_found', `${request.url} does not exist: the web page is not installed`)),
    );
    return;
  }
  await app.register(fastifyStatic, { root: options.folder, prefix: '/web/', index: false });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.sendFile('index.html'));
}
