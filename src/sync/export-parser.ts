// Parses an export's batches in worker threads (or on the calling thread), answering each batch's promise with its COPY text.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseExportBatch, type ParsedBatch } from './export-lines';
import type { ParseRequest } from './parse-worker';

export interface ExportParser {
  /** Parses one batch of whole lines. Its bytes are handed to a worker: the caller must not touch them again. */
  parse(bytes: Uint8Array): Promise<ParsedBatch>;
  /** Ends the worker threads; batches not answered yet are rejected. */
  close(): Promise<void>;
}

export interface ExportParserOptions {
  /** Worker threads; 0 parses on the calling thread. */
  workers: number;
  /** Invalid lines kept with their reasons per batch. */
  keepInvalid: number;
  /** The worker's script; tests give one that fails. */
  script?: string;
}

// Beside this file: parse-worker.ts when run from source (tsx, jest), parse-worker.js in dist/.
const WORKER_SCRIPT = path.join(__dirname, `parse-worker${path.extname(__filename)}`);

export function createExportParser(options: ExportParserOptions): ExportParser {
  if (!Number.isInteger(options.workers) || options.workers < 0) throw new Error(`parse workers must be a non-negative integer, not ${options.workers}`);
  if (options.workers === 0) {
    return { parse: async (bytes) => parseExportBatch(bytes, options.keepInvalid), close: async () => undefined };
  }
  const pending = new Map<number, { resolve: (batch: ParsedBatch) => void; reject: (error: Error) => void }>();
  let failure: Error | undefined;
  let closing = false;
  const fail = (error: Error) => {
    failure ??= error;
    for (const { reject } of pending.values()) reject(failure);
    pending.clear();
  };
  const workers = Array.from({ length: options.workers }, () => {
    const worker = startWorker(options.script ?? WORKER_SCRIPT, { keepInvalid: options.keepInvalid });
    worker.on('message', ({ id, batch }: { id: number; batch: ParsedBatch }) => {
      pending.get(id)?.resolve(batch);
      pending.delete(id);
    });
    worker.on('error', (error) => fail(new Error(`parsing the export failed in a worker thread: ${error.message}`)));
    worker.on('messageerror', (error) => fail(new Error(`a parse worker's answer could not be read: ${error.message}`)));
    // 'error' comes first when the worker threw; this catches an exit without one (process.exit in it).
    worker.on('exit', (code) => {
      if (!closing) fail(new Error(`a parse worker thread stopped (exit code ${code}) before the import ended`));
    });
    return worker;
  });
  let nextId = 0;
  return {
    parse: (bytes) => {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      // In turn: each worker answers its own batches in the order it got them.
      const worker = workers[id % workers.length]!;
      return new Promise<ParsedBatch>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // Only a buffer that is the batch's alone can be handed over (never a slice of a shared pool).
        const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
        const request: ParseRequest = { id, bytes: own };
        worker.postMessage(request, [own.buffer as ArrayBuffer]);
      });
    },
    close: async () => {
      closing = true;
      await Promise.all(workers.map((worker) => worker.terminate()));
      fail(new Error('the export parser was closed'));
    },
  };
}

// From source, the worker gets tsx's CommonJS hook (a worker thread runs neither jest's transform
// nor the `--import tsx` of the main thread); from dist/ it is plain JavaScript.
function startWorker(script: string, workerData: { keepInvalid: number }): Worker {
  if (!script.endsWith('.ts')) return new Worker(script, { workerData });
  const source = `require(${JSON.stringify(require.resolve('tsx/cjs'))});\nrequire(${JSON.stringify(script)});`;
  return new Worker(source, { eval: true, workerData });
}
