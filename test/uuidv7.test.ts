// The ids the bulk upsert gives new users: UUIDv7, increasing.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { uuidv7s } from '../src/modules/users/uuidv7';

it('makes version 7, RFC 9562 variant UUIDs that carry the current time in milliseconds', () => {
  const before = Date.now();
  const [id] = uuidv7s(1);
  const after = Date.now();
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const ms = parseInt(id!.replace(/-/g, '').slice(0, 12), 16);
  expect(ms).toBeGreaterThanOrEqual(before);
  expect(ms).toBeLessThanOrEqual(after);
});

it('gives strictly increasing ids, within one call and across calls, beyond 4,096 in a millisecond', () => {
  const ids = [...uuidv7s(10_000), ...uuidv7s(10_000)];
  const sorted = [...ids].sort();
  expect(ids).toEqual(sorted);
  expect(new Set(ids).size).toBe(ids.length);
});

it('gives distinct ids in two threads at once, each thread\'s increasing (the import\'s parse workers)', async () => {
  // Each worker thread has its own millisecond counter: ids of two threads interleave in time, and only their random bits keep them apart.
  const makeIds = () =>
    new Promise<string[]>((resolve, reject) => {
      const source = `require(${JSON.stringify(require.resolve('tsx/cjs'))});
        const { parentPort } = require('node:worker_threads');
        const { uuidv7s } = require(${JSON.stringify(path.join(__dirname, '../src/modules/users/uuidv7.ts'))});
        const ids = [];
        for (let i = 0; i < 20; i += 1) ids.push(...uuidv7s(5000));
        parentPort.postMessage(ids);`;
      const worker = new Worker(source, { eval: true });
      worker.once('message', (ids: string[]) => void worker.terminate().then(() => resolve(ids)));
      worker.once('error', reject);
    });
  const [a, b] = await Promise.all([makeIds(), makeIds()]);
  expect(a).toEqual([...a].sort());
  expect(b).toEqual([...b].sort());
  expect(new Set([...a, ...b]).size).toBe(200_000);
});
