// `npm run bench:legacy`: legacy password verifications per second, per core and in total, at realistic
// cost factors, and how long the event loop stalls meanwhile (it should not: hashing runs on the threadpool).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { parseLegacyHash, verifyPassword, type LegacyHash } from '../src/modules/legacy/password-hashes';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, only: { type: 'string' } } });
const SECONDS = Number(values.seconds);
const PASSWORD = 'correct horse battery staple';

// The costs a legacy store of today typically holds (OWASP's current minimums for the last three).
async function realisticHashes(): Promise<Array<{ name: string; hash: LegacyHash }>> {
  const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');
  const salt = randomBytes(16);
  const encoded = {
    'bcrypt cost 10 (the dummy hash\'s cost)': await bcryptHash(PASSWORD, 10),
    'bcrypt cost 12': await bcryptHash(PASSWORD, 12),
    'argon2id m=19 MiB, t=2, p=1': await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 }),
    'scrypt N=2^17, r=8, p=1': `$scrypt$ln=17,r=8,p=1$${b64(salt)}$${b64(scryptSync(PASSWORD, salt, 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 }))}`,
    'PBKDF2-SHA256 600,000 iterations': `$pbkdf2-sha256$i=600000,l=32$${b64(salt)}$${b64(pbkdf2Sync(PASSWORD, salt, 600000, 32, 'sha256'))}`,
  };
  return Object.entries(encoded).map(([name, value]) => {
    const hash = parseLegacyHash(value);
    if (typeof hash === 'string') throw new Error(`${name}: ${hash}`);
    return { name, hash };
  });
}

/** Verifications completed in SECONDS with `concurrency` in flight, and the worst event-loop stall seen meanwhile. */
async function measure(hash: LegacyHash, concurrency: number): Promise<{ perSecond: number; worstStallMs: number }> {
  let done = 0;
  let worstStallMs = 0;
  const deadline = Date.now() + SECONDS * 1000;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    worstStallMs = Math.max(worstStallMs, now - last - 10);
    last = now;
  }, 10);
  const worker = async () => {
    while (Date.now() < deadline) {
      const { valid } = await verifyPassword(PASSWORD, hash);
      if (!valid) throw new Error('verification failed');
      done += 1;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (concurrency === 0) await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  clearInterval(probe);
  return { perSecond: done / ((Date.now() - started) / 1000), worstStallMs: Math.max(0, worstStallMs) };
}

async function main(): Promise<void> {
  const cores = os.availableParallelism();
  const load = os.loadavg()[0]!.toFixed(1);
  process.stdout.write(`legacy password verification, ${SECONDS} s each, ${cores} cores, load average ${load}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? 4}\n`);
  process.stdout.write('| Hash | 1 at a time (per core) /s | ' + `${cores} at a time /s | worst event-loop stall |\n| --- | ---: | ---: | ---: |\n`);
  // The same stall probe with nothing to verify: what the machine's own load costs the event loop.
  const idle = await measure({ kind: 'none' } as unknown as LegacyHash, 0);
  process.stdout.write(`| (nothing verified: baseline stall) | | | ${Math.round(idle.worstStallMs)} ms |\n`);
  for (const { name, hash } of await realisticHashes()) {
    if (values.only && !name.includes(values.only)) continue;
    const single = await measure(hash, 1);
    const parallel = await measure(hash, cores);
    process.stdout.write(`| ${name} | ${single.perSecond.toFixed(1)} | ${parallel.perSecond.toFixed(1)} | ${Math.round(Math.max(single.worstStallMs, parallel.worstStallMs))} ms |\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
