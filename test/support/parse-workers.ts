// A parse worker script for the import's tests: the real parser, but a batch can be held back or made to fail.
// It speaks the protocol of src/sync/parse-worker.ts ({ id, bytes } in, { id, batch } out) and
// acts on the batch's lines: a batch whose first line says "hold" is answered only after another
// worker has answered a later batch (answers then come out of file order); a batch with a line
// saying "explode" throws in the worker, one saying "exit-thread" ends the thread.
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { parseExportBatch, type ParsedBatch } from '../../src/sync/export-lines';

const { keepInvalid } = workerData as { keepInvalid: number };
const answer = (id: number, batch: ParsedBatch) => parentPort!.postMessage({ id, batch }, [batch.copy.buffer as ArrayBuffer, batch.keys.buffer as ArrayBuffer]);

// Worker threads start in any order: a holding worker asks, and a worker that has answered a batch
// says so whenever asked (and once when it answers), so that no message is lost to a late start.
const channel = new BroadcastChannel('parse-test-answered');
let answeredOne = false;
let released = false;
const held: Array<() => void> = [];
channel.onmessage = (event) => {
  const { data } = event as { data: unknown };
  if (data === 'holding' && answeredOne) channel.postMessage('answered');
  if (data !== 'answered') return;
  released = true;
  for (const release of held.splice(0)) release();
};

parentPort!.on('message', ({ id, bytes }: { id: number; bytes: Uint8Array }) => {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (text.includes('exit-thread')) process.exit(3);
  if (text.includes('explode')) throw new Error('the parser met a line it cannot handle');
  const batch = parseExportBatch(bytes, keepInvalid);
  if (text.toString('utf8', 0, Math.max(0, text.indexOf(10))).includes('hold')) {
    if (released) answer(id, batch);
    else {
      held.push(() => answer(id, batch));
      channel.postMessage('holding');
    }
    return;
  }
  answer(id, batch);
  answeredOne = true;
  channel.postMessage('answered');
});
