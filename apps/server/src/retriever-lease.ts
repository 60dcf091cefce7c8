import type { ComposedRetriever } from '@cir/index';

/**
 * Who still uses a collection's retriever: the collection while it serves it, and every session opened on it (a
 * session stays on the state it was opened on, even after a rebuild). When the collection lets go (a rebuild
 * replaced it, or the collection was deleted) and the last session has ended, the retriever is disposed: a MAI
 * retriever holds its model's tfjs tensors, which the garbage collector does not free. The same moment frees the
 * state's files kept for those sessions (`whenDisposed`).
 */
export class RetrieverLease {
  private sessions = 0;
  private retired = false;
  private disposed = false;
  private readonly onDisposed: (() => void)[] = [];

  constructor(private readonly retriever: ComposedRetriever) {}

  /** A session opened on this state. */
  acquire(): void {
    this.sessions++;
  }

  /** That session ended (deleted, expired or closed with the server). */
  release(): void {
    this.sessions--;
    this.disposeWhenUnused();
  }

  /** The collection no longer serves this state. */
  retire(): void {
    this.retired = true;
    this.disposeWhenUnused();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Runs `callback` once the retriever is disposed (now, if it already is): e.g. to delete the state's files. */
  whenDisposed(callback: () => void): void {
    if (this.disposed) callback();
    else this.onDisposed.push(callback);
  }

  private disposeWhenUnused(): void {
    if (this.retired && this.sessions <= 0 && !this.disposed) {
      this.disposed = true;
      this.retriever.dispose?.();
      for (const callback of this.onDisposed.splice(0)) callback();
    }
  }
}
