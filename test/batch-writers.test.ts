// The import's batch scheduler: batches side by side, but never two that share a user at once.
import { createBatchWriters } from '../src/sync/batch-writers';

/** A write whose end the test decides, and which records that it started. */
function controlledWrite(started: string[], name: string) {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const ended = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return {
    write: async () => {
      started.push(name);
      await ended;
    },
    finish,
    fail,
  };
}

const keys = (...ids: string[]) => new Map(ids.map((id) => [id, true]));

it('a batch that shares no user with the one being written starts at once', async () => {
  const started: string[] = [];
  const writers = createBatchWriters<string>(2);
  const first = controlledWrite(started, 'first');
  const second = controlledWrite(started, 'second');
  await writers.submit(keys('a', 'b'), first.write);
  await writers.submit(keys('c', 'd'), second.write);
  expect(started).toEqual(['first', 'second']);
  second.finish();
  first.finish();
  await writers.drain();
});

it('a batch that shares a user with one being written starts only after it ends', async () => {
  const started: string[] = [];
  const writers = createBatchWriters<string>(2);
  const first = controlledWrite(started, 'first');
  const later = controlledWrite(started, 'later');
  await writers.submit(keys('a', 'b'), first.write);
  const submitted = writers.submit(keys('x', 'b'), later.write);
  // The first write has not ended: `later` must still be waiting, whatever else runs meanwhile.
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(started).toEqual(['first']);
  first.finish();
  await submitted;
  expect(started).toEqual(['first', 'later']);
  later.finish();
  await writers.drain();
});

it('no more batches than writers are written at once', async () => {
  const started: string[] = [];
  const writers = createBatchWriters<string>(2);
  const writes = ['one', 'two', 'three'].map((name) => controlledWrite(started, name));
  await writers.submit(keys('1'), writes[0]!.write);
  await writers.submit(keys('2'), writes[1]!.write);
  const third = writers.submit(keys('3'), writes[2]!.write);
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(started).toEqual(['one', 'two']);
  writes[1]!.finish();
  await third;
  expect(started).toEqual(['one', 'two', 'three']);
  writes[0]!.finish();
  writes[2]!.finish();
  await writers.drain();
});

it('a failed write stops the batches after it, even once it has left the writers', async () => {
  const started: string[] = [];
  const writers = createBatchWriters<string>(2);
  const failing = controlledWrite(started, 'failing');
  const other = controlledWrite(started, 'other');
  await writers.submit(keys('a'), failing.write);
  await writers.submit(keys('b'), other.write);
  failing.fail(new Error('batch refused'));
  other.finish();
  await writers.settle();
  // Both writes have ended: the next batch has free writers and shares nothing, and is still refused.
  await expect(writers.submit(keys('c'), controlledWrite(started, 'next').write)).rejects.toThrow('batch refused');
  await expect(writers.drain()).rejects.toThrow('batch refused');
  expect(started).toEqual(['failing', 'other']);
});
