// UUIDv7 (RFC 9562) for new users written in bulk: time-ordered, so the primary key grows at its right edge.
import { randomFillSync } from 'node:crypto';

// The last id's milliseconds and 12-bit counter (the RFC's "method 1"): ids from this thread only
// ever increase, even within one millisecond or if the clock steps back. Each worker thread has its
// own (the import's parse workers): ids made in two threads in the same milliseconds interleave,
// never collide (62 random bits each).
let lastMs = 0;
let lastCounter = 0xfff;

const HEX3 = Array.from({ length: 0x1000 }, (_, n) => n.toString(16).padStart(3, '0'));

const prefixOf = (ms: number) => {
  const time = ms.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7`;
};

/**
 * `count` UUIDv7 strings, increasing. PostgreSQL 18 has uuidv7(), but the database may be older, so
 * they are made here: 48 bits of Unix milliseconds, a 12-bit counter, the variant, 62 random bits.
 */
export function uuidv7s(count: number): string[] {
  const random = randomFillSync(Buffer.alloc(8 * count));
  for (let i = 0; i < count; i += 1) random[8 * i] = (random[8 * i]! & 0x3f) | 0x80; // the variant: 10xx
  const hex = random.toString('hex');
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    lastCounter = -1;
  }
  let prefix = prefixOf(lastMs);
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i += 1) {
    lastCounter += 1;
    if (lastCounter > 0xfff) {
      lastMs += 1;
      lastCounter = 0;
      prefix = prefixOf(lastMs);
    }
    ids[i] = `${prefix}${HEX3[lastCounter]}-${hex.slice(16 * i, 16 * i + 4)}-${hex.slice(16 * i + 4, 16 * i + 16)}`;
  }
  return ids;
}
