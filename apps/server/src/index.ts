// @cir/server: HTTP API and web page for interactive multi-turn retrieval.

export { CATALOG_QUERY_MAX_LENGTH, type CatalogEntry, catalogWords, filterCatalog } from './catalog-filter';
export type { CatalogImage } from './catalog-folder';
export { readCatalogFolder } from './catalog-folder';
export type { CollectionItem, CollectionManifest } from './collection-files';
export type {
  CollectionRecord,
  CollectionRegistryOptions,
  CollectionStatus,
  ServedCollection,
  StoredCollection,
} from './collections';
export { CollectionRegistry } from './collections';
export type { ErrorBody } from './errors';
export { ApiError } from './errors';
export type { LoadTestOptions, LoadTestResult, ServerWindowMetrics } from './load-test';
export {
  parsePrometheusText,
  peakRssMb,
  processCpuMs,
  runLoadTest,
  serverWindowMetrics,
} from './load-test';
export { ServerMetrics, TURN_SECONDS_BUCKETS } from './metrics';
export { SAMPLE_TURN_TEXTS } from './sample-texts';
export { COLLECTION_NAME_PATTERN } from './schemas';
export type { CirServer, ServerOptions, StartedServer, StartServerOptions } from './server';
export { createServer, startServer } from './server';
export type { SessionRegistryOptions, SessionTurn, SessionView, TurnResultItem } from './sessions';
export { DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_TTL_MS, SessionRegistry } from './sessions';
export type { UploadLimits } from './upload-images';
export { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_PIXELS } from './upload-images';
export type { WarmUpOptions, WarmUpReport } from './warm-up';
export { warmUp } from './warm-up';
