import { SAMPLE_TURN_TEXTS } from './sample-texts';
import type { CirServer } from './server';

export interface WarmUpOptions {
  /** Sessions a collection runs at once, so that their turns batch together as under load (default 32). */
  sessions?: number;
  /** Turns each session takes (default 5). */
  turns?: number;
  /** The server's bearer token, when it needs one. */
  token?: string;
  /** Only these collections (default: every ready one). */
  collections?: readonly string[];
}

export interface WarmUpReport {
  /** The collections warmed up (every ready one asked for). */
  collections: string[];
  /** Turns answered. */
  turns: number;
  ms: number;
  /** The first failure, when a warm-up request failed (the others still ran; the server serves anyway). */
  error?: string;
}

/**
 * Runs a round of multi-turn sessions through every ready collection before shoppers come: plain, rollback and
 * combination turns, by `app.inject` (routing, schema checks, the retriever, serialization; no socket), and deletes
 * the sessions afterwards. A server that has just started answers its first seconds of turns up to ~2× slower
 * (JIT compilation, onnxruntime sessions and buffers created on first use): measured under 32 back-to-back
 * shoppers on the 10k demo collection, 277–394 turns/s in the first second and p99 132–151 ms in the first two,
 * against ~620 turns/s from the first second on a server that had already answered turns.
 */
export async function warmUp(app: CirServer, options: WarmUpOptions = {}): Promise<WarmUpReport> {
  const sessions = options.sessions ?? 32;
  const turns = options.turns ?? 5;
  const headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  const started = performance.now();
  const report: WarmUpReport = { collections: [], turns: 0, ms: 0 };
  const call = async (method: 'POST' | 'DELETE', url: string, payload?: object): Promise<unknown> => {
    const response = await app.inject({ method, url, headers, ...(payload && { payload }) });
    if (response.statusCode >= 300) {
      throw new Error(`${method} ${url} → ${response.statusCode} ${response.body.slice(0, 200)}`);
    }
    return response.body ? response.json() : undefined;
  };
  for (const collection of app.collections.list()) {
    if (collection.status !== 'ready') continue;
    if (options.collections && !options.collections.includes(collection.name)) continue;
    const items = app.collections.items(collection.name);
    if (items.length === 0) continue;
    report.collections.push(collection.name);
    // What the retriever still loads in the background (MAI's turn worker) is warmed up by this round too.
    await app.collections.servedForSession(collection.name).retriever.whenReady?.();
    await Promise.all(
      Array.from({ length: sessions }, async (_value, session) => {
        try {
          const { id } = (await call('POST', '/v1/sessions', { collection: collection.name })) as {
            id: string;
          };
          const path = `/v1/sessions/${encodeURIComponent(id)}`;
          try {
            for (let turn = 0; turn < turns; turn++) {
              // A reference on the first turn and every other one after (the server goes on from its best result
              // otherwise), texts of every kind across the sessions.
              const referenceId = turn % 2 === 0 ? items[(session * 7 + turn) % items.length]!.id : undefined;
              await call('POST', `${path}/turns`, {
                ...(referenceId !== undefined && { referenceId }),
                text: SAMPLE_TURN_TEXTS[(session + turn) % SAMPLE_TURN_TEXTS.length]!,
                limit: 10,
              });
              report.turns++;
            }
          } finally {
            await call('DELETE', path);
          }
        } catch (error) {
          report.error ??= error instanceof Error ? error.message : String(error);
        }
      }),
    );
  }
  report.ms = performance.now() - started;
  return report;
}
