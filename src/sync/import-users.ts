// Imports an Auth0 users export (NDJSON, optionally gzipped): streamed, parsed in worker threads, upserted in batches.
import fs from 'node:fs';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Pool } from 'pg';
import { upsertCopyRows } from '../modules/users/users-bulk-upsert';
import { ensureUserIndexes, prepareUsersBulkLoad } from '../modules/users/users-load-indexes';
import { createBatchWriters } from './batch-writers';
import { createExportParser } from './export-parser';
import { lineOf, sortedKeysIntersect, type InvalidLine, type ParsedBatch } from './export-lines';

export { parseAuth0User, parseExportLine, type InvalidLine } from './export-lines';

export interface ImportCounts {
  lines: number;
  created: number;
  updated: number;
  unchanged: number;
  invalid: number;
}

export interface ImportOptions {
  pool: Pool;
  input: Readable;
  gzipped: boolean;
  /** Lines per batch (one transaction each); a batch writes at most this many users. */
  batchSize?: number;
  /** After each committed batch, with the bytes of the input read so far. */
  onBatch?: (counts: ImportCounts, bytesRead: number) => void;
  /** At most this many invalid lines are kept with their reasons (all are counted). */
  keepInvalid?: number;
  /** How many batches may be written at once, each on its own pool connection (the pool needs as many). */
  writers?: number;
  /** Worker threads that parse the lines; 0 parses on this thread. */
  parseWorkers?: number;
  /** The parse workers' script (tests: one that fails). */
  parseWorkerScript?: string;
  /** Aborting stops the import: no batch is started after it, the batches being written end, then it rejects. */
  signal?: AbortSignal;
}

// One on two cores, two on more. On 2 cores, 1M users, in turns (bench/README.md): two workers
// made the realistic re-run 0.7-1.6 s faster than one, but the thin export's first import 1.3-1.4 s
// slower (two cost more CPU in all, each with its own JIT and heap), and the first import, CPU-bound
// on both cores, must not get slower. With more cores the re-run is bound by the parse itself.
export const DEFAULT_PARSE_WORKERS = os.availableParallelism() > 2 ? 2 : 1;

export async function importUsers(options: ImportOptions): Promise<{ counts: ImportCounts; invalid: InvalidLine[] }> {
  const batchSize = options.batchSize ?? 5000;
  const keepInvalid = options.keepInvalid ?? 1000;
  const parseWorkers = options.parseWorkers ?? DEFAULT_PARSE_WORKERS;
  // Checked before anything is changed (an import into an empty table drops indexes first).
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, not ${batchSize}`);
  if (!Number.isInteger(parseWorkers) || parseWorkers < 0) throw new Error(`parseWorkers must be a non-negative integer, not ${parseWorkers}`);
  const counts: ImportCounts = { lines: 0, created: 0, updated: 0, unchanged: 0, invalid: 0 };
  const invalid: InvalidLine[] = [];
  // Into an empty table, the indexes no write needs are built once at the end (see users-load-indexes).
  // Before the input is read from: a 'data' listener sets it flowing.
  const deferredIndexes = await prepareUsersBulkLoad(options.pool);
  let bytesRead = 0;
  options.input.on('data', (chunk: Buffer) => void (bytesRead += chunk.length));
  const text: Readable = options.gzipped ? options.input.pipe(createGunzip({ chunkSize: 64 * 1024 })) : options.input;

  // The main thread only cuts the bytes into batches of lines and writes: the workers decode,
  // validate and make each batch's COPY text, and their answers are taken in file order. Up to
  // `writers` batches are written at once, each on its own connection, so that Postgres can use
  // more than one core; a batch that shares a user with one being written waits for it, so that
  // the later line still wins. Memory stays flat: at most 2 batches per worker are being parsed,
  // `writers` written and one waits between. A crash may leave a later batch committed before an
  // earlier one that shares no user with it: a re-run writes the whole file again, in order, so
  // each user still ends with their last line.
  const parser = createExportParser({ workers: parseWorkers, keepInvalid, script: options.parseWorkerScript });
  const stop = () => void parser.close();
  options.signal?.addEventListener('abort', stop, { once: true });
  const writers = createBatchWriters<Uint32Array>(options.writers ?? 2, sortedKeysIntersect);
  const parseAhead = Math.max(1, 2 * parseWorkers);

  // Once the import fails, no batch still on its way to the writers may start a write.
  let halted = false;
  const write = async (batch: ParsedBatch) => {
    if (halted) return;
    for (const line of batch.invalid) if (invalid.length < keepInvalid) invalid.push({ line: counts.lines + line.line, reason: line.reason });
    counts.lines += batch.lines;
    counts.invalid += batch.invalidCount;
    const copy = Buffer.from(batch.copy.buffer, batch.copy.byteOffset, batch.copy.byteLength);
    await writers.submit(batch.keys, async () => {
      if (halted) return;
      const result = await upsertCopyRows(options.pool, copy, batch.rows);
      counts.created += result.created;
      counts.updated += result.updated;
      counts.unchanged += result.unchanged;
      options.onBatch?.({ ...counts }, bytesRead);
    });
  };

  // Each batch is handed to the writers as soon as it is parsed and the one before it was handed
  // over (file order), whether or not more input has come. Each promise in `taking` resolves once
  // its batch's write has started; the reading waits while `parseAhead` of them are pending.
  let previous: Promise<void> = Promise.resolve();
  const taking: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  try {
    for await (const bytes of lineBatches(text, batchSize)) {
      options.signal?.throwIfAborted();
      const parsed = parser.parse(bytes);
      // A failure is met in its turn (or the import has already stopped): never unhandled.
      parsed.catch(() => undefined);
      previous = previous.then(async () => write(await parsed));
      previous.catch(() => undefined);
      taking.push(previous);
      if (taking.length > parseAhead) await taking.shift();
    }
    while (taking.length > 0) await taking.shift();
    await writers.drain();
  } catch (error) {
    failure = { error: options.signal?.aborted ? options.signal.reason : error };
    halted = true;
    // Never leave a batch running behind the caller's back (it may close the pool next): the
    // batches being parsed are dropped, those on their way to the writers stop, the writes end.
    await parser.close();
    await previous.catch(() => undefined);
    await writers.settle();
  } finally {
    options.signal?.removeEventListener('abort', stop);
    await parser.close();
  }
  // Failed or not: what was committed must not stay without them.
  if (deferredIndexes) await ensureUserIndexes(options.pool).catch((error: unknown) => void (failure ??= { error }));
  if (failure) throw failure.error;
  return { counts, invalid };
}

/**
 * The bytes of a UTF-8 stream in batches of `linesPerBatch` whole lines (the last batch may end
 * without \n), each in a buffer of its own, to be handed to a worker thread without a copy.
 */
export async function* lineBatches(input: AsyncIterable<Buffer | Uint8Array | string>, linesPerBatch: number): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  let lines = 0;
  const cut = () => {
    const batch = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      batch.set(part, at);
      at += part.length;
    }
    parts = [];
    size = 0;
    lines = 0;
    return batch;
  };
  for await (const read of input) {
    const chunk = asBuffer(read);
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, newline + 1)) {
      lines += 1;
      if (lines < linesPerBatch) continue;
      parts.push(chunk.subarray(start, newline + 1));
      size += newline + 1 - start;
      start = newline + 1;
      yield cut();
    }
    if (start < chunk.length) {
      parts.push(chunk.subarray(start));
      size += chunk.length - start;
    }
  }
  if (size > 0) yield cut();
}

// A web stream (fetch's body) gives Uint8Arrays, a stream with an encoding strings.
const asBuffer = (read: Buffer | Uint8Array | string): Buffer =>
  typeof read === 'string' ? Buffer.from(read) : Buffer.isBuffer(read) ? read : Buffer.from(read.buffer, read.byteOffset, read.byteLength);

/**
 * The lines of a UTF-8 byte stream, as arrays (one per chunk read). Faster than readline: it splits
 * bytes on \n, which never occurs inside a multi-byte character, and decodes each line once.
 */
export async function* splitLines(input: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<string[]> {
  let rest: Buffer | undefined;
  for await (const read of input) {
    const chunk = asBuffer(read);
    const lines: string[] = [];
    let start = 0;
    let end = chunk.indexOf(10);
    if (end === -1) {
      rest = rest ? Buffer.concat([rest, chunk]) : chunk;
      continue;
    }
    if (rest) {
      lines.push(lineOf(Buffer.concat([rest, chunk.subarray(0, end)]), 0, rest.length + end));
      start = end + 1;
      rest = undefined;
      end = chunk.indexOf(10, start);
    }
    while (end !== -1) {
      lines.push(lineOf(chunk, start, end));
      start = end + 1;
      end = chunk.indexOf(10, start);
    }
    if (start < chunk.length) rest = chunk.subarray(start);
    yield lines;
  }
  if (rest && rest.length > 0) yield [lineOf(rest, 0, rest.length)];
}

export function openExport(file: string): { input: Readable; gzipped: boolean; size: number } {
  return { input: fs.createReadStream(file), gzipped: file.endsWith('.gz'), size: fs.statSync(file).size };
}
