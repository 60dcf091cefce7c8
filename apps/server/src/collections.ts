import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { replaceDirectory, restoreInterruptedReplace, writeJsonAtomic } from '@cir/core-tensor';
import type { ComposedRetriever, RetrieverProvider } from '@cir/index';
import { readCatalogFolder } from './catalog-folder';
import {
  COLLECTION_FILE,
  COLLECTION_FORMAT_VERSION,
  type CollectionItem,
  type CollectionManifest,
  type ImageSource,
  placeImages,
  RETRIEVER_FOLDER,
  readCollectionManifest,
} from './collection-files';
import { badRequest, conflict, notFound, oneLine } from './errors';
import { RetrieverLease } from './retriever-lease';
import { COLLECTION_NAME_PATTERN } from './schemas';

export type CollectionStatus = 'ready' | 'building' | 'failed';

/** What the API shows of a collection. */
export interface CollectionRecord {
  name: string;
  method: string;
  /** Items served; while a first build runs, the items being built. */
  items: number;
  status: CollectionStatus;
  /** Why the last build, or the load at start, failed (with status ready: the previous state is still served). */
  error?: string;
  /** When the served state was built (ISO 8601). */
  builtAt?: string;
}

/** A collection as stored on disk (`CollectionRegistry.readStored`), without loading it. */
export interface StoredCollection {
  name: string;
  method: string;
  items: number;
  builtAt?: string;
  /** Why its `collection.json` could not be read. */
  error?: string;
}

/** A collection's served state: a loaded retriever and the item table of the folder it was built into. */
export interface ServedCollection {
  name: string;
  method: string;
  builtAt: string;
  /** Names this state in its image URLs (`?v=`): `builtAt` in ms, base 36. */
  version: string;
  /**
   * The state's folder: `collections/<name>` while it serves; after a rebuild, while sessions opened on it remain,
   * `collections/<name>.retired-<version>` (deleted after their end, or at the next start).
   */
  directory: string;
  retriever: ComposedRetriever;
  /** Disposes the retriever once neither the collection nor any session uses it. */
  lease: RetrieverLease;
  items: readonly CollectionItem[];
  byId: ReadonlyMap<string, CollectionItem>;
}

/** Images received by an upload, staged in a folder of their own that the rebuild consumes. */
export interface StagedUpload {
  directory: string;
  images: { id: string; caption?: string; fileName: string; path: string }[];
}

interface Collection {
  name: string;
  /** Method of the served state, or of the latest build asked for. */
  method: string;
  served?: ServedCollection;
  /** Item table of the folder on disk, kept even when its retriever could not be loaded. */
  stored?: readonly CollectionItem[];
  /** States a rebuild replaced whose sessions remain, by version: their images are still served. */
  retired: Map<string, ServedCollection>;
  pendingBuilds: number;
  buildingItems?: number;
  error?: string;
}

export interface CollectionRegistryOptions {
  dataDir: string;
  provider: RetrieverProvider;
  /** Relative catalog paths resolve against it and catalogs outside it are refused; default: no restriction. */
  catalogRoot?: string;
  log?: { error(object: unknown, message: string): void; info(object: unknown, message: string): void };
  /** Called while a build encodes its gallery (e.g. the CLI's progress bar). */
  onBuildProgress?: (name: string, done: number, total: number) => void;
}

const NAME = new RegExp(COLLECTION_NAME_PATTERN);
/** Marks the folder of a replaced state kept for its sessions: `<name>.retired-<version>`. */
const RETIRED_MARKER = '.retired-';

/**
 * Every collection of a data folder. Builds run one at a time per collection, in the order they were asked for,
 * each into a temporary folder swapped in atomically: until the swap the previous state keeps serving, and a
 * process killed mid-build leaves it on disk.
 */
export class CollectionRegistry {
  private readonly collections = new Map<string, Collection>();
  /** The last queued job of each collection name (builds, deletion), so that jobs run in order. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly builtListeners = new Set<(name: string) => void>();
  private readonly root: string;

  private constructor(private readonly options: CollectionRegistryOptions) {
    this.root = join(options.dataDir, 'collections');
  }

  /**
   * The collections stored under `dataDir`, read from their `collection.json` files alone: no model is loaded and
   * nothing is written (an interrupted rebuild is restored by the next `open`). For listings that need no encoder.
   */
  static async readStored(dataDir: string): Promise<StoredCollection[]> {
    const root = join(dataDir, 'collections');
    const entries = await readdir(root).catch(() => [] as string[]);
    return Promise.all(
      collectionNames(entries).map(async (name): Promise<StoredCollection> => {
        const directory = join(root, name);
        try {
          const manifest = await readCollectionManifest(directory);
          return { name, method: manifest.method, items: manifest.items.length, builtAt: manifest.builtAt };
        } catch (error) {
          const interrupted = !entries.includes(name);
          return {
            name,
            method: 'unknown',
            items: 0,
            error: interrupted
              ? 'a rebuild was interrupted: the next server or index command restores the previous state'
              : unreadable(join(directory, COLLECTION_FILE), error),
          };
        }
      }),
    );
  }

  /**
   * The item table of one collection stored under `dataDir`, read from its `collection.json` alone (no model is
   * loaded), e.g. to find the id of an item to start a query from.
   * @throws when `name` is not a collection name, or the collection is absent or its file unreadable (naming it)
   */
  static async readStoredItems(dataDir: string, name: string): Promise<readonly CollectionItem[]> {
    checkCollectionName(name);
    return (await readCollectionManifest(join(dataDir, 'collections', name))).items;
  }

  /** Reloads every collection folder of `dataDir`, putting back the previous state of a build killed mid-swap. */
  static async open(options: CollectionRegistryOptions): Promise<CollectionRegistry> {
    const registry = new CollectionRegistry(options);
    await registry.loadAll();
    return registry;
  }

  get size(): number {
    return this.collections.size;
  }

  get methods(): readonly string[] {
    return this.options.provider.methods;
  }

  /**
   * Calls `listener` with a collection's name each time a build of it succeeds and its new state serves (not for
   * the collections reloaded at start). Returns the function that stops it.
   */
  onBuilt(listener: (name: string) => void): () => void {
    this.builtListeners.add(listener);
    return () => this.builtListeners.delete(listener);
  }

  list(): CollectionRecord[] {
    return [...this.collections.values()]
      .sort((left, right) => (left.name < right.name ? -1 : 1))
      .map((collection) => this.toRecord(collection));
  }

  record(name: string): CollectionRecord {
    return this.toRecord(this.require(name));
  }

  /** The state a new session is opened on. */
  servedForSession(name: string): ServedCollection {
    const collection = this.require(name);
    if (collection.served) return collection.served;
    if (collection.pendingBuilds > 0) {
      throw conflict(`collection "${name}" is still building for the first time; try again when it is ready`);
    }
    throw conflict(`collection "${name}" has no usable state: ${collection.error ?? 'never built'}`);
  }

  /** The served item table (empty while a first build runs). */
  items(name: string): readonly CollectionItem[] {
    return this.require(name).served?.items ?? [];
  }

  /** The version of the served state, which its image URLs carry (`0` while a first build runs). */
  version(name: string): string {
    return this.require(name).served?.version ?? '0';
  }

  /**
   * The file of an item's image, looked up in an item table: never a path built from the request. With `version`,
   * in that state of the collection while it serves or while sessions opened on it remain (`exact`: that URL
   * always gives these bytes); without it, or for a state no longer kept, in the served state.
   */
  imageFile(name: string, id: string, version?: string): { file: string; exact: boolean } {
    const collection = this.require(name);
    const { served } = collection;
    const state =
      version === undefined
        ? undefined
        : served?.version === version
          ? served
          : collection.retired.get(version);
    const chosen = state ?? served;
    const item = chosen?.byId.get(id);
    if (!chosen || !item) throw notFound(`collection "${name}" has no item "${id}"`);
    return { file: join(chosen.directory, item.image), exact: state !== undefined };
  }

  /**
   * Builds (or with `replace`, rebuilds) a collection from a catalog folder on the server's disk. Checks the
   * method, the name and the folder now; the build itself runs in the background.
   */
  async createFromCatalog(request: {
    name: string;
    catalog: string;
    method?: string;
    replace?: boolean;
  }): Promise<void> {
    const { name } = request;
    checkCollectionName(name);
    const method = request.method ?? this.methods[0];
    if (method === undefined) throw new Error('the retriever provider has no method');
    if (!this.methods.includes(method)) {
      throw badRequest(
        `unknown method "${method}"; known methods: ${this.methods.join(', ')}`,
        'unknown_method',
      );
    }
    const refuseExisting = () => {
      if (this.collections.has(name) && !request.replace) {
        throw conflict(`collection "${name}" already exists; send "replace": true to rebuild it`);
      }
    };
    refuseExisting();
    const images = await readCatalogFolder(this.resolveCatalog(request.catalog));
    // Another request may have created it while the folder was read.
    refuseExisting();
    const collection = this.collections.get(name) ?? this.register(name, method);
    collection.method = method;
    this.startBuild(collection, () => images.map((image) => ({ ...image, owned: false })));
  }

  /**
   * Adds uploaded images to a collection (created with the default method when absent) and rebuilds it. An id
   * that already exists is replaced, keeping its caption unless the upload gives one. A collection that failed to
   * load keeps its items when its `collection.json` is readable; otherwise it is rebuilt from the upload alone.
   */
  addImages(name: string, upload: StagedUpload): void {
    checkCollectionName(name);
    const collection = this.collections.get(name) ?? this.register(name, this.methods[0]!);
    // A collection whose collection.json could not be read has no known method (nor items): the default method.
    if (!this.methods.includes(collection.method)) collection.method = this.methods[0]!;
    const uploadedIds = new Set(upload.images.map((image) => image.id));
    this.startBuild(
      collection,
      () => {
        const directory = join(this.root, name);
        const previous = new Map((collection.stored ?? []).map((item) => [item.id, item]));
        const kept: ImageSource[] = [...previous.values()]
          .filter((item) => !uploadedIds.has(item.id))
          .map((item) => ({
            id: item.id,
            ...(item.caption !== undefined && { caption: item.caption }),
            fileName: basename(item.image),
            path: join(directory, item.image),
            owned: true,
          }));
        const added: ImageSource[] = upload.images.map((image) => {
          const caption = image.caption ?? previous.get(image.id)?.caption;
          return { ...image, ...(caption !== undefined && { caption }), owned: true };
        });
        return [...kept, ...added];
      },
      () => rm(upload.directory, { recursive: true, force: true }),
    );
  }

  /** Forgets a collection now and deletes its folder once any running build of it has finished. */
  delete(name: string): void {
    this.require(name).served?.lease.retire();
    this.collections.delete(name);
    this.enqueue(name, () => rm(join(this.root, name), { recursive: true, force: true }));
  }

  /** Resolves when the queued builds and deletions of `name` (or of every collection) have finished. */
  async whenIdle(name?: string): Promise<void> {
    if (name !== undefined) {
      await this.queues.get(name);
      return;
    }
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  private require(name: string): Collection {
    const collection = this.collections.get(name);
    if (!collection) throw notFound(`collection "${name}" does not exist`);
    return collection;
  }

  private register(name: string, method: string): Collection {
    const collection: Collection = { name, method, pendingBuilds: 0, retired: new Map() };
    this.collections.set(name, collection);
    return collection;
  }

  private toRecord(collection: Collection): CollectionRecord {
    const { served } = collection;
    // The status says whether sessions can be opened; a failed rebuild leaves the previous state ready, with
    // the failure in `error`.
    const status: CollectionStatus = collection.pendingBuilds > 0 ? 'building' : served ? 'ready' : 'failed';
    return {
      name: collection.name,
      method: served?.method ?? collection.method,
      items: served?.items.length ?? collection.buildingItems ?? collection.stored?.length ?? 0,
      status,
      ...(collection.error !== undefined && { error: collection.error }),
      ...(served && { builtAt: served.builtAt }),
    };
  }

  private resolveCatalog(catalog: string): string {
    const { catalogRoot } = this.options;
    if (catalogRoot === undefined) return resolve(catalog);
    const folder = resolve(catalogRoot, catalog);
    const inside = relative(resolve(catalogRoot), folder);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      throw badRequest(`catalog folder ${catalog} is outside the server's catalog root`);
    }
    return folder;
  }

  /**
   * Queues a build. `sources` is called when the build starts, so that it sees the result of the builds queued
   * before it; `after` runs whatever the outcome.
   */
  private startBuild(
    collection: Collection,
    sources: () => ImageSource[],
    after?: () => Promise<unknown>,
  ): void {
    collection.pendingBuilds++;
    collection.error = undefined;
    this.enqueue(collection.name, async () => {
      let built = false;
      try {
        // Deleted while waiting in the queue.
        if (this.collections.get(collection.name) !== collection) return;
        const list = sources();
        collection.buildingItems = list.length;
        const method = collection.method;
        const previous = collection.served;
        const { served, kept } = await this.build(collection.name, method, list, previous);
        collection.served = served;
        if (previous) this.retire(collection, previous, kept);
        // Deleted while building: nobody will serve the new state.
        if (this.collections.get(collection.name) !== collection) served.lease.retire();
        collection.stored = served.items;
        collection.error = undefined;
        this.options.log?.info({ collection: collection.name, items: list.length }, 'collection built');
        built = this.collections.get(collection.name) === collection;
      } catch (error) {
        collection.error = `build failed: ${(error as Error).message}`;
        this.options.log?.error({ err: error, collection: collection.name }, 'collection build failed');
      } finally {
        collection.pendingBuilds--;
        collection.buildingItems = undefined;
        await after?.().catch(() => undefined);
        // Once its status says so (`ready`, unless another build is queued).
        if (built) {
          for (const listener of this.builtListeners) {
            try {
              listener(collection.name);
            } catch (error) {
              this.options.log?.error({ err: error, collection: collection.name }, 'onBuilt listener failed');
            }
          }
        }
      }
    });
  }

  /**
   * Lets go of a state a rebuild replaced. Its retriever and its files (`kept`: where the rebuild moved its folder)
   * stay while sessions opened on it remain.
   */
  private retire(collection: Collection, state: ServedCollection, kept: string | undefined): void {
    if (kept !== undefined) {
      state.directory = kept;
      collection.retired.set(state.version, state);
      state.lease.whenDisposed(() => {
        collection.retired.delete(state.version);
        this.enqueue(collection.name, () => rm(kept, { recursive: true, force: true }));
      });
    }
    state.lease.retire();
  }

  /** Builds a new state; the folder of `previous` is kept beside the new one (`kept`) for its sessions. */
  private async build(
    name: string,
    method: string,
    sources: ImageSource[],
    previous: ServedCollection | undefined,
  ): Promise<{ served: ServedCollection; kept?: string }> {
    if (sources.length === 0) throw new Error('no images to build from');
    const directory = join(this.root, name);
    const retriever = await this.options.provider.create(method);
    try {
      return await this.buildWith(retriever, name, method, directory, sources, previous);
    } catch (error) {
      // Not served: free it now.
      retriever.dispose?.();
      throw error;
    }
  }

  private async buildWith(
    retriever: ComposedRetriever,
    name: string,
    method: string,
    directory: string,
    sources: ImageSource[],
    previous: ServedCollection | undefined,
  ): Promise<{ served: ServedCollection; kept?: string }> {
    // Each state of a collection has its own version, even when two builds end within a millisecond.
    const builtAt = new Date(
      Math.max(Date.now(), (Date.parse(previous?.builtAt ?? '') || 0) + 1),
    ).toISOString();
    let items: CollectionItem[] = [];
    const keepPreviousAt = previous && `${directory}${RETIRED_MARKER}${previous.version}`;
    const kept = await replaceDirectory(
      directory,
      async (temporary) => {
        items = await placeImages(temporary, sources);
        const placed = items.map((item) => join(temporary, item.image));
        await retriever
          .encodeGallery(
            items.map((item, index) => ({
              id: item.id,
              imagePath: placed[index]!,
              ...(item.caption !== undefined && { caption: item.caption }),
            })),
            { onProgress: (done, total) => this.options.onBuildProgress?.(name, done, total) },
          )
          .catch((error: unknown) => {
            throw new Error(namedBySource((error as Error).message, placed, sources));
          });
        const retrieverDirectory = join(temporary, RETRIEVER_FOLDER);
        await mkdir(retrieverDirectory, { recursive: true });
        await retriever.save(retrieverDirectory);
        const manifest: CollectionManifest = {
          formatVersion: COLLECTION_FORMAT_VERSION,
          name,
          method,
          builtAt,
          items,
        };
        // Written last: a folder with a collection.json is a complete one.
        await writeJsonAtomic(join(temporary, COLLECTION_FILE), manifest);
      },
      keepPreviousAt === undefined ? {} : { keepPreviousAt },
    );
    return { served: served(name, method, builtAt, directory, retriever, items), ...(kept && { kept }) };
  }

  private enqueue(name: string, job: () => Promise<unknown>): void {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous.then(job).then(
      () => undefined,
      (error) => this.options.log?.error({ err: error, collection: name }, 'collection job failed'),
    );
    this.queues.set(name, next);
    void next.then(() => {
      if (this.queues.get(name) === next) this.queues.delete(name);
    });
  }

  private async loadAll(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    // Folders kept for the sessions of a replaced state: sessions do not outlive the process that held them.
    await Promise.all(
      (await readdir(this.root))
        .filter((entry) => entry.includes(RETIRED_MARKER))
        .map((entry) => rm(join(this.root, entry), { recursive: true, force: true })),
    );
    for (const name of collectionNames(await readdir(this.root))) {
      const directory = join(this.root, name);
      await restoreInterruptedReplace(directory);
      await Promise.all(
        (await readdir(this.root))
          .filter((entry) => entry.startsWith(`${name}.tmp-`) || entry.startsWith(`${name}.old-`))
          .map((entry) => rm(join(this.root, entry), { recursive: true, force: true })),
      );
      if (!(await stat(directory).catch(() => undefined))?.isDirectory()) continue;
      this.collections.set(name, await this.load(name, directory));
    }
  }

  /** A folder that cannot be loaded becomes a failed collection, never a crash. */
  private async load(name: string, directory: string): Promise<Collection> {
    const collection: Collection = { name, method: 'unknown', pendingBuilds: 0, retired: new Map() };
    try {
      const manifest = await readCollectionManifest(directory);
      collection.method = manifest.method;
      collection.stored = manifest.items;
      const retriever = await this.options.provider.create(manifest.method);
      try {
        await retriever.load(join(directory, RETRIEVER_FOLDER));
      } catch (error) {
        retriever.dispose?.();
        throw error;
      }
      collection.served = served(
        name,
        manifest.method,
        manifest.builtAt,
        directory,
        retriever,
        manifest.items,
      );
    } catch (error) {
      collection.error = `cannot load ${directory}: ${(error as Error).message}`;
      this.options.log?.error({ err: error, collection: name }, 'collection failed to load');
    }
    return collection;
  }
}

/**
 * An encoder's error names the copy of an image in the build's temporary folder: name the file the image came from
 * (a catalog folder's, an upload's) instead, on one line. `placed[i]` is the copy of `sources[i]`.
 */
function namedBySource(message: string, placed: readonly string[], sources: readonly ImageSource[]): string {
  const index = placed.findIndex((path) => message.includes(path));
  const named = index < 0 ? message : message.replaceAll(placed[index]!, sources[index]!.path);
  return oneLine(named);
}

/** Why `file` could not be read, naming it once (the JSON reader's messages start with the file already). */
function unreadable(file: string, error: unknown): string {
  const message = oneLine((error as Error).message);
  return message.startsWith(file) ? message : `cannot read ${file}: ${message}`;
}

/**
 * Refuses a name that is not a collection name: it becomes a folder name under `collections/`, so "", "..", "a/b" or
 * "Shop" would write outside it, replace it, or never be listed. The HTTP schemas check it too; library callers
 * (the CLI) reach this one.
 */
function checkCollectionName(name: string): void {
  if (!NAME.test(name)) {
    throw badRequest(
      `"${name}" is not a collection name: lower-case letters, digits, - and _, starting with a letter or digit, at most 64 characters`,
      'invalid_name',
    );
  }
}

/**
 * The collection names a folder's entries stand for, sorted: `<name>` itself, and `<name>.tmp-…` and
 * `<name>.old-…`, which a killed build leaves beside it (not `<name>.retired-…`, which outlives a deleted one).
 */
function collectionNames(entries: readonly string[]): string[] {
  return [
    ...new Set(
      entries.filter((entry) => !entry.includes(RETIRED_MARKER)).map((entry) => entry.split('.')[0]!),
    ),
  ]
    .filter((name) => NAME.test(name))
    .sort();
}

function served(
  name: string,
  method: string,
  builtAt: string,
  directory: string,
  retriever: ComposedRetriever,
  items: readonly CollectionItem[],
): ServedCollection {
  return {
    name,
    method,
    builtAt,
    version: versionOf(builtAt),
    directory,
    retriever,
    lease: new RetrieverLease(retriever),
    items,
    byId: new Map(items.map((item) => [item.id, item])),
  };
}

/** A state's version: its build time in ms, base 36 (`0` for a `builtAt` that is not a date). */
function versionOf(builtAt: string): string {
  return (Date.parse(builtAt) || 0).toString(36);
}
