import { randomUUID } from 'node:crypto';
import type { RetrievalSession } from '@cir/index';
import { imageUrl } from './collection-files';
import type { ServedCollection } from './collections';
import { ApiError, badRequest, notFound } from './errors';

export interface TurnResultItem {
  id: string;
  score: number;
  imageUrl: string;
  caption?: string;
}

export interface SessionTurn {
  turn: number;
  referenceId: string;
  /** The earlier item a retrospective text returned to ("go back to the second one, …"), which the turn used. */
  returnedTo?: string;
  text: string;
  results: TurnResultItem[];
}

export interface SessionView {
  id: string;
  collection: string;
  turns: SessionTurn[];
}

export interface SessionRegistryOptions {
  /** Idle time after which a session is forgotten; every use restarts it. Default 30 minutes. */
  ttlMs?: number;
  /** Sessions held at once; opening one more answers 503. Default 10,000. */
  maxSessions?: number;
  /** Clock, for tests. */
  now?: () => number;
  /**
   * Called after each turn of a known session with its collection, its time in ms (from this call to its answer)
   * and, when it failed, its error (e.g. the server's metrics).
   */
  onTurn?: (collection: string, ms: number, error?: unknown) => void;
}

export const DEFAULT_SESSION_TTL_MS = 30 * 60 * 1000;
export const DEFAULT_MAX_SESSIONS = 10_000;

/**
 * A shopper's conversation with one collection. It stays on the collection state it was opened on (a rebuild
 * does not change the gallery under a running conversation) and runs one request at a time, since a turn and a
 * rollback both rewrite the retriever session's memory.
 */
class ServerSession {
  readonly id = randomUUID();
  readonly turns: SessionTurn[] = [];
  lastUsed: number;
  private queue: Promise<unknown> = Promise.resolve();

  private ended = false;

  constructor(
    readonly collection: ServedCollection,
    readonly retrieval: RetrievalSession,
    now: number,
  ) {
    this.lastUsed = now;
    collection.lease.acquire();
  }

  /** Lets go of the collection state once the requests already queued have run (they still use its retriever). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    void this.queue.then(() => this.collection.lease.release());
  }

  /** Runs `work` after the session's earlier requests. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  view(): SessionView {
    return { id: this.id, collection: this.collection.name, turns: this.turns };
  }
}

/** Sessions in memory, evicted after `ttlMs` without use by a timer that never keeps the process alive. */
export class SessionRegistry {
  private readonly sessions = new Map<string, ServerSession>();
  private readonly ttlMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  private readonly onTurn: SessionRegistryOptions['onTurn'];

  constructor(options: SessionRegistryOptions = {}) {
    this.onTurn = options.onTurn;
    this.ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), Math.min(Math.max(this.ttlMs / 2, 10), 60_000));
    this.timer.unref();
  }

  /** Sessions held, expired ones included until the next sweep. */
  get size(): number {
    return this.sessions.size;
  }

  /** Live sessions. */
  count(): number {
    this.sweep();
    return this.sessions.size;
  }

  open(collection: ServedCollection): SessionView {
    if (this.sessions.size >= this.maxSessions) this.sweep();
    if (this.sessions.size >= this.maxSessions) {
      throw new ApiError(
        503,
        'too_many_sessions',
        `the server holds its maximum of ${this.maxSessions} sessions; try again later`,
      );
    }
    const session = new ServerSession(collection, collection.retriever.openSession(), this.now());
    this.sessions.set(session.id, session);
    return session.view();
  }

  view(id: string): SessionView {
    return this.require(id).view();
  }

  /**
   * Takes one turn. The first turn needs a reference; later ones default to the previous turn's best result.
   * @throws ApiError 400 for a missing or unknown reference, 404 for an unknown session
   */
  turn(id: string, input: { referenceId?: string; text: string; limit?: number }): Promise<SessionTurn> {
    const session = this.require(id);
    const onTurn = this.onTurn;
    const started = performance.now();
    const answer = this.answerTurn(session, input);
    if (!onTurn) return answer;
    const collection = session.collection.name;
    return answer.then(
      (turn) => {
        onTurn(collection, performance.now() - started);
        return turn;
      },
      (error: unknown) => {
        onTurn(collection, performance.now() - started, error);
        throw error;
      },
    );
  }

  private answerTurn(
    session: ServerSession,
    input: { referenceId?: string; text: string; limit?: number },
  ): Promise<SessionTurn> {
    return session.exclusive(async () => {
      const { collection } = session;
      if (input.referenceId === undefined && session.turns.length === 0) {
        throw badRequest('the first turn needs a referenceId (the item the shopper starts from)');
      }
      if (input.referenceId !== undefined && !collection.byId.has(input.referenceId)) {
        throw badRequest(
          `unknown referenceId "${input.referenceId}": collection "${collection.name}" has no such item`,
        );
      }
      const result = await session.retrieval.turn({
        ...(input.referenceId !== undefined && { referenceId: input.referenceId }),
        text: input.text,
        limit: input.limit ?? 10,
      });
      const history = session.retrieval.history();
      const referenceId =
        history[history.length - 1]?.referenceId ??
        input.referenceId ??
        session.turns[session.turns.length - 1]?.results[0]?.id ??
        '';
      const turn: SessionTurn = {
        turn: result.turn,
        referenceId,
        ...(result.returnedTo !== undefined && { returnedTo: result.returnedTo }),
        text: input.text,
        results: result.results.map((hit) => {
          const caption = collection.byId.get(hit.id)?.caption;
          return {
            id: hit.id,
            score: hit.score,
            imageUrl: imageUrl(collection.name, hit.id, collection.version),
            ...(caption !== undefined && { caption }),
          };
        }),
      };
      session.turns.push(turn);
      session.lastUsed = this.now();
      return turn;
    });
  }

  /**
   * Makes `turn` the latest again (0 empties the session).
   * @throws ApiError 400 when the session has fewer turns, 404 for an unknown session
   */
  rollback(id: string, turn: number): Promise<{ turn: number; turns: SessionTurn[] }> {
    const session = this.require(id);
    return session.exclusive(async () => {
      if (turn > session.turns.length) {
        throw badRequest(
          `cannot roll back to turn ${turn}: session has ${session.turns.length} turn${session.turns.length === 1 ? '' : 's'}`,
        );
      }
      await session.retrieval.rollback(turn);
      session.turns.splice(turn);
      session.lastUsed = this.now();
      return { turn, turns: session.turns };
    });
  }

  delete(id: string): void {
    this.remove(id, this.require(id));
  }

  /** Forgets the sessions of a deleted collection. */
  deleteForCollection(name: string): void {
    for (const [id, session] of this.sessions) if (session.collection.name === name) this.remove(id, session);
  }

  sweep(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [id, session] of this.sessions) if (session.lastUsed < oldest) this.remove(id, session);
  }

  close(): void {
    clearInterval(this.timer);
    for (const [id, session] of this.sessions) this.remove(id, session);
  }

  private remove(id: string, session: ServerSession): void {
    this.sessions.delete(id);
    session.end();
  }

  /** A session, its idle clock restarted; an expired one is gone even if no sweep has run yet. */
  private require(id: string): ServerSession {
    const session = this.sessions.get(id);
    if (!session || session.lastUsed < this.now() - this.ttlMs) {
      if (session) this.remove(id, session);
      throw notFound(`session "${id}" does not exist (it may have expired)`);
    }
    session.lastUsed = this.now();
    return session;
  }
}
