import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CollectionRegistry } from './collections';
import { ApiError } from './errors';
import type { SessionRegistry } from './sessions';

/** Upper bounds of the turn-latency buckets, in seconds (5 ms to 2 s: a served turn takes ~5–50 ms here). */
export const TURN_SECONDS_BUCKETS = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 2];

/**
 * The server's Prometheus metrics (`GET /v1/metrics`, text format 0.0.4), one registry per server:
 * - `cir_turns_total{collection}` and `cir_turn_duration_seconds{collection}`: turns answered and how long each took
 *   in the server, from the request's turn call to its answer (a session's turns run one at a time, so a turn that
 *   waits for the session's previous one counts that wait);
 * - `cir_turn_errors_total{collection,kind}`: turns that failed, `kind="client"` for a 4xx answer (bad input: an
 *   unknown reference, a first turn without one) and `kind="server"` for the others (what an alert should watch);
 * - `cir_sessions_open`, `cir_collections{status}`: read when scraped;
 * - prom-client's default process metrics (`process_*`, `nodejs_*`): CPU, resident memory, event-loop lag and
 *   garbage-collection pauses by kind (`nodejs_gc_duration_seconds`), which is where a latency tail shows first.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly turns: Counter<'collection'>;
  private readonly turnErrors: Counter<'collection' | 'kind'>;
  private readonly turnSeconds: Histogram<'collection'>;

  constructor(collections: CollectionRegistry, sessions: SessionRegistry) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.turns = new Counter({
      name: 'cir_turns_total',
      help: 'Turns answered, by collection.',
      labelNames: ['collection'],
      registers,
    });
    this.turnErrors = new Counter({
      name: 'cir_turn_errors_total',
      help: 'Turns that failed (an error answer), by collection and kind (client: a 4xx answer, server: the others).',
      labelNames: ['collection', 'kind'],
      registers,
    });
    this.turnSeconds = new Histogram({
      name: 'cir_turn_duration_seconds',
      help: 'Time from a turn call to its answer in the server, by collection.',
      labelNames: ['collection'],
      buckets: TURN_SECONDS_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'cir_sessions_open',
      help: 'Sessions held now.',
      registers,
      collect() {
        this.set(sessions.count());
      },
    });
    new Gauge({
      name: 'cir_collections',
      help: 'Collections by status (ready, building, failed).',
      labelNames: ['status'],
      registers,
      collect() {
        this.reset();
        for (const status of ['ready', 'building', 'failed'] as const) this.set({ status }, 0);
        for (const collection of collections.list()) this.inc({ status: collection.status });
      },
    });
  }

  /** One turn's outcome (`SessionRegistry`'s `onTurn`): `error` when it failed. */
  observeTurn(collection: string, ms: number, error?: unknown): void {
    if (error !== undefined) {
      const kind = error instanceof ApiError && error.statusCode < 500 ? 'client' : 'server';
      this.turnErrors.inc({ collection, kind });
      return;
    }
    this.turns.inc({ collection });
    this.turnSeconds.observe({ collection }, ms / 1000);
  }

  /** The text exposition Prometheus scrapes. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
