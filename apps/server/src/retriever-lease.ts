import type { ComposedRetriever } from '@cir/index';

/**
 * Who still uses a collection's retriever: the collection while it serves it, and every session opened on it (a
 * session stays on the state it was opened on, even after a rebuild). When the collection lets go (a rebuild
 * replaced it, or the collection was deleted) and the last session has ended, the retriever is disposed: a MAI
 * retriever holds its model's tfjs tensors, which the garbage collector does not free.
 */
export class RetrieverLease {
  private sessions = 0;
  private retired = false;
  private disposed = false;

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

  private disposeWhenUnused(): void {
    if (this.retired && this.sessions <= 0 && !this.disposed) {
      this.disposed = true;
      this.retriever.dispose?.();
    }
  }
}
