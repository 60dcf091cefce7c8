import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { filterCatalog } from '../catalog-filter';
import { IMAGE_CONTENT_TYPES } from '../catalog-folder';
import { imageUrl } from '../collection-files';
import type { CollectionRegistry } from '../collections';
import { notFound } from '../errors';
import {
  collectionSchema,
  createCollectionSchema,
  deleteCollectionSchema,
  imageSchema,
  listCollectionsSchema,
  listItemsSchema,
  methodsSchema,
  uploadImagesSchema,
} from '../schemas';
import type { SessionRegistry } from '../sessions';
import { receiveImages, type UploadLimits } from '../upload-images';

export interface CollectionRoutesOptions {
  collections: CollectionRegistry;
  sessions: SessionRegistry;
  stagingRoot: string;
  limits: UploadLimits;
}

/** `/v1/methods` and `/v1/collections/…`: building collections, browsing their items, serving their images. */
export async function collectionRoutes(
  app: FastifyInstance,
  options: CollectionRoutesOptions,
): Promise<void> {
  const { collections, sessions } = options;

  app.get('/methods', { schema: { tags: ['collections'], ...methodsSchema } }, async () => ({
    methods: [...collections.methods],
    default: collections.methods[0],
  }));

  app.get('/collections', { schema: { tags: ['collections'], ...listCollectionsSchema } }, async () => ({
    collections: collections.list(),
  }));

  app.post<{ Body: { name: string; catalog: string; method?: string; replace?: boolean } }>(
    '/collections',
    { schema: { tags: ['collections'], ...createCollectionSchema } },
    async (request, reply) => {
      await collections.createFromCatalog(request.body);
      return reply.status(202).send({ name: request.body.name, status: 'building' });
    },
  );

  app.get<{ Params: { name: string } }>(
    '/collections/:name',
    { schema: { tags: ['collections'], ...collectionSchema } },
    async (request) => collections.record(request.params.name),
  );

  app.delete<{ Params: { name: string } }>(
    '/collections/:name',
    { schema: { tags: ['collections'], ...deleteCollectionSchema } },
    async (request, reply) => {
      collections.delete(request.params.name);
      sessions.deleteForCollection(request.params.name);
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { name: string } }>(
    '/collections/:name/images',
    { schema: { tags: ['collections'], ...uploadImagesSchema } },
    async (request, reply) => {
      const upload = await receiveImages(request, options.stagingRoot, options.limits);
      collections.addImages(request.params.name, upload);
      return reply.status(202).send({
        name: request.params.name,
        status: 'building',
        added: upload.images.map((image) => image.id),
      });
    },
  );

  app.get<{ Params: { name: string }; Querystring: { offset: number; limit: number; q?: string } }>(
    '/collections/:name/items',
    { schema: { tags: ['collections'], ...listItemsSchema } },
    async (request) => {
      const { name } = request.params;
      const { offset, limit, q } = request.query;
      const items = filterCatalog(collections.items(name), q ?? '');
      const version = collections.version(name);
      return {
        total: items.length,
        items: items.slice(offset, offset + limit).map((item) => ({
          id: item.id,
          ...(item.caption !== undefined && { caption: item.caption }),
          imageUrl: imageUrl(name, item.id, version),
        })),
      };
    },
  );

  app.get<{ Params: { name: string; id: string }; Querystring: { v?: string } }>(
    '/collections/:name/images/:id',
    { schema: { tags: ['collections'], ...imageSchema } },
    async (request, reply) => {
      const { name, id } = request.params;
      const { file, exact } = collections.imageFile(name, id, request.query.v);
      // Gone between the lookup and the read: a rebuild swapped the folder.
      const size = (await stat(file).catch(() => undefined))?.size;
      if (size === undefined) throw notFound(`collection "${name}" has no item "${id}"`);
      return (
        reply
          .header(
            'content-type',
            IMAGE_CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
          )
          .header('content-length', size)
          .header('x-content-type-options', 'nosniff')
          // A versioned URL names bytes that never change; any other may show another picture after a rebuild.
          .header('cache-control', exact ? 'max-age=31536000, immutable' : 'no-cache')
          .send(createReadStream(file))
      );
    },
  );
}
