// A worker thread of the export parser: turns each batch of lines it is sent into COPY text (see export-parser.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { parseExportBatch } from './export-lines';

export interface ParseRequest {
  id: number;
  bytes: Uint8Array;
}

const { keepInvalid } = workerData as { keepInvalid: number };

parentPort!.on('message', ({ id, bytes }: ParseRequest) => {
  const batch = parseExportBatch(bytes, keepInvalid);
  // Handed over, not copied: the COPY text and the keys are the only large parts of the answer.
  parentPort!.postMessage({ id, batch }, [batch.copy.buffer as ArrayBuffer, batch.keys.buffer as ArrayBuffer]);
});
