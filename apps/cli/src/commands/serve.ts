import { startServer, warmUp } from '@cir/server';
import type { Command } from 'commander';
import { CliError, integerAtLeast, integerBetween } from '../output';
import { ProgressBar } from '../progress';
import {
  buildProgress,
  DEMO_COLLECTION,
  ensureDemoCollection,
  type RetrievalOptions,
  retrievalOptions,
  retrievalSetup,
} from '../retrieval-setup';

interface ServeOptions extends RetrievalOptions {
  host: string;
  port: number;
  token?: string;
  sessionTtl: number;
  catalogRoot?: string;
  log?: boolean;
  warmUp: boolean;
  turnWorker: boolean;
}

/** `cir serve`: the HTTP API and the web page. */
export function registerServe(program: Command): void {
  retrievalOptions(
    program
      .command('serve')
      .description(
        'Serve multi-turn retrieval over HTTP with the web page: collections built from catalog folders or ' +
          'uploads, sessions turn by turn, rollback. API document at /openapi.json, Prometheus metrics at /v1/metrics.',
      ),
  )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 picks a free one)', integerBetween(0, 65_535), 8080)
    .option('--token <token>', 'require Authorization: Bearer <token> on /v1/* (default $CIR_TOKEN)')
    .option('--session-ttl <minutes>', 'forget sessions idle this long', integerAtLeast(1), 30)
    .option('--catalog-root <dir>', 'only build collections from catalog folders inside this one')
    .option('--log', 'log every request (JSON lines on stdout)')
    .option(
      '--no-warm-up',
      'skip the warm-up (a round of sessions through each collection at start, ~0.5 s for the 10k demo, and through each collection built while serving)',
    )
    .option(
      '--no-turn-worker',
      'compute MAI turns on the main thread only (by default a worker thread computes them while the main ' +
        'thread answers requests: 10–50 % more turns/s under load on 2 cores, ~150 MB more memory)',
    )
    .addHelpText(
      'after',
      `
Collections are kept under --data-dir and reloaded at start; a build swaps its folder in atomically, so a crash
mid-build leaves the previous state serving. Stop with Ctrl-C (in-flight requests finish first).

Examples:
  cir serve --demo                                    after \`cir demo\`: open http://127.0.0.1:8080
  cir serve --encoder world/encoder --model my-mai --data-dir shop-data --token secret
  curl -X POST localhost:8080/v1/collections -H 'content-type: application/json' \\
       -d '{"name": "shop", "catalog": "/data/catalog"}'`,
    )
    .action(async (options: ServeOptions) => {
      const setup = await retrievalSetup(options, { turnWorker: options.turnWorker });
      const bar = new ProgressBar(true);
      const token = options.token ?? process.env.CIR_TOKEN;
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer({
          dataDir: setup.dataDir,
          provider: setup.provider,
          host: options.host,
          port: options.port,
          sessionTtlMs: options.sessionTtl * 60_000,
          ...(token && { token }),
          ...(options.catalogRoot && { catalogRoot: options.catalogRoot }),
          ...(options.log && { logger: true }),
          onBuildProgress: buildProgress(bar),
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new CliError(`port ${options.port} is in use: pick another with --port`, 2);
        }
        throw error;
      }
      const say = (line: string) => process.stderr.write(`${line}\n`);
      if (setup.demo) {
        await ensureDemoCollection(server.app.collections, setup.demo, say);
        bar.stop();
      }
      if (options.warmUp) {
        // A collection built while the server runs (POST /v1/collections, an upload) gets the same round once its
        // new state serves: its first shoppers would otherwise wait on its turn worker's start and first batches.
        server.app.collections.onBuilt((name) => {
          void warmUp(server.app, { collections: [name], ...(token && { token }) }).then((report) => {
            if (report.turns > 0) {
              say(
                `cir serve: collection ${name} built, warmed up: ${report.turns} turns in ${(report.ms / 1000).toFixed(1)} s`,
              );
            }
            if (report.error) say(`cir serve: warning: a warm-up request of ${name} failed: ${report.error}`);
          });
        });
      }
      // Before the ready line: the first shoppers after a start would otherwise wait on JIT compilation and
      // first-use allocations (see warmUp).
      const warm = options.warmUp ? await warmUp(server.app, { ...(token && { token }) }) : undefined;
      const collections = server.app.collections.list();
      say(`cir serve: ${server.url}  (web page at /, API document at /openapi.json, metrics at /v1/metrics)`);
      say(`  data: ${setup.dataDir}`);
      say(`  methods: ${setup.provider.methods.join(', ')} (default ${setup.provider.methods[0]})`);
      say(
        `  collections: ${collections.length === 0 ? 'none yet (POST /v1/collections)' : collections.map((c) => `${c.name} (${c.items} items, ${c.method}, ${c.status})`).join(', ')}`,
      );
      if (warm && warm.collections.length > 0) {
        say(`  warmed up: ${warm.turns} turns in ${(warm.ms / 1000).toFixed(1)} s (skip with --no-warm-up)`);
      }
      if (warm?.error) say(`  warning: a warm-up request failed: ${warm.error}`);
      if (setup.demo) say(`  open ${server.url}/?collection=${DEMO_COLLECTION}`);
      if (token) say('  /v1/* needs Authorization: Bearer <token> (the page takes ?token=…)');
    });
}
