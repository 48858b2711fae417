// Runs batch writes side by side (one connection each), never two batches that share a user at once.

export interface BatchWriters<Keys> {
  /**
   * Starts writing `keys`' batch once fewer than `writers` batches are being written and none of
   * them shares a key with it (so that a later line still wins). Resolves when the write has
   * started; rejects with the first failed write.
   */
  submit(keys: Keys, write: () => Promise<void>): Promise<void>;
  /** Waits for every write started; rejects with the first failure. */
  drain(): Promise<void>;
  /** Waits for every write started to end, failed or not (before the caller closes their pool). */
  settle(): Promise<void>;
}

interface Writing<Keys> {
  keys: Keys;
  done: Promise<void>;
}

/** Batches keyed by maps (a batch's users by Auth0 id). */
export function createBatchWriters<Key>(writers: number): BatchWriters<ReadonlyMap<Key, unknown>>;
/** Batches whose keys only `shareKey` can compare (e.g. sorted hashes of their ids). */
export function createBatchWriters<Keys>(writers: number, shareKey: (a: Keys, b: Keys) => boolean): BatchWriters<Keys>;
export function createBatchWriters<Keys>(writers: number, shareKey: (a: Keys, b: Keys) => boolean = mapsShareKey as (a: Keys, b: Keys) => boolean): BatchWriters<Keys> {
  if (!Number.isInteger(writers) || writers < 1) throw new Error(`writers must be a positive integer, not ${writers}`);
  const inFlight = new Set<Writing<Keys>>();
  // The first failure, kept: a failed write leaves the set, and must still stop the writes after it.
  let failed: { error: unknown } | undefined;
  const throwIfFailed = () => {
    if (failed) throw failed.error;
  };
  return {
    submit: async (keys, write) => {
      for (;;) {
        throwIfFailed();
        const waitFor = [...inFlight].filter((other) => inFlight.size >= writers || shareKey(other.keys, keys));
        if (waitFor.length === 0) break;
        await Promise.race(waitFor.map((other) => other.done));
      }
      const done = write().catch((error: unknown) => {
        failed ??= { error };
        throw error;
      });
      const writing: Writing<Keys> = { keys, done: done.finally(() => inFlight.delete(writing)) };
      inFlight.add(writing);
      // A rejection is rethrown by the next wait on it (or kept in `failed`); this only keeps it from counting as unhandled.
      writing.done.catch(() => undefined);
    },
    drain: async () => {
      await Promise.all([...inFlight].map((writing) => writing.done));
      throwIfFailed();
    },
    settle: async () => {
      await Promise.allSettled([...inFlight].map((writing) => writing.done));
    },
  };
}

function mapsShareKey<Key>(a: ReadonlyMap<Key, unknown>, b: ReadonlyMap<Key, unknown>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const key of small.keys()) if (large.has(key)) return true;
  return false;
}
