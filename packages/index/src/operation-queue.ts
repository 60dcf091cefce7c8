/**
 * Runs asynchronous operations one at a time, in call order. A store's operations await between their reads
 * and writes (a search scores in blocks, an add checks ids and then writes); letting another operation run in
 * between would pair row numbers with the wrong ids, or let two adds of one id both pass the check.
 */
export class OperationQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<Result>(operation: () => Promise<Result>): Promise<Result> {
    const result = this.tail.then(operation);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
