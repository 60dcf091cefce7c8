/** An item handed to a store is unusable: wrong vector length, a NaN or infinite value, a bad id or metadata. */
export class InvalidItemError extends Error {
  override readonly name = 'InvalidItemError';

  constructor(
    readonly id: string,
    detail: string,
  ) {
    super(`item "${id}": ${detail}`);
  }
}

/** `add` was given an id that the store already holds (use `upsert` to replace it). */
export class DuplicateIdError extends Error {
  override readonly name = 'DuplicateIdError';

  constructor(readonly id: string) {
    super(`item "${id}" is already in the store; use upsert to replace it`);
  }
}

/** A saved store is incomplete or not in the expected format. */
export class StoreFormatError extends Error {
  override readonly name = 'StoreFormatError';

  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
  }
}
