import type { FastifyInstance } from 'fastify';
import type { CollectionRegistry } from '../collections';
import {
  createSessionSchema,
  deleteSessionSchema,
  rollbackSchema,
  sessionSchema,
  turnSchema,
} from '../schemas';
import type { SessionRegistry } from '../sessions';

export interface SessionRoutesOptions {
  collections: CollectionRegistry;
  sessions: SessionRegistry;
}

/** `/v1/sessions/…`: multi-turn conversations with a collection. */
export async function sessionRoutes(app: FastifyInstance, options: SessionRoutesOptions): Promise<void> {
  const { collections, sessions } = options;

  app.post<{ Body: { collection: string } }>(
    '/sessions',
    { schema: { tags: ['sessions'], ...createSessionSchema } },
    async (request, reply) => {
      const session = sessions.open(collections.servedForSession(request.body.collection));
      return reply.status(201).send({ id: session.id, collection: session.collection });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/sessions/:id',
    { schema: { tags: ['sessions'], ...sessionSchema } },
    async (request) => sessions.view(request.params.id),
  );

  app.post<{ Params: { id: string }; Body: { referenceId?: string; text: string; limit?: number } }>(
    '/sessions/:id/turns',
    { schema: { tags: ['sessions'], ...turnSchema } },
    async (request) => {
      const { turn, results, returnedTo } = await sessions.turn(request.params.id, request.body);
      return { turn, results, ...(returnedTo !== undefined && { returnedTo }) };
    },
  );

  app.post<{ Params: { id: string }; Body: { turn: number } }>(
    '/sessions/:id/rollback',
    { schema: { tags: ['sessions'], ...rollbackSchema } },
    async (request) => sessions.rollback(request.params.id, request.body.turn),
  );

  app.delete<{ Params: { id: string } }>(
    '/sessions/:id',
    { schema: { tags: ['sessions'], ...deleteSessionSchema } },
    async (request, reply) => {
      sessions.delete(request.params.id);
      return reply.status(204).send();
    },
  );
}
