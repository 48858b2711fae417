// The sample of waiting users' hashes that unknown emails are verified against, on a real Postgres.
import pino from 'pino';
import { createDatabaseClients, type DatabaseClients } from '../src/db/prisma';
import { DecoyHashes } from '../src/modules/legacy/decoy-hashes';
import { DUMMY_BCRYPT_COST, type LegacyHash } from '../src/modules/legacy/password-hashes';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { createLegacyUser } from './support/legacy';

const REFRESH_MS = 60_000;
let database: TestDatabase;
let clients: DatabaseClients;
beforeEach(async () => {
  database = await createTestDatabase();
  clients = createDatabaseClients({ connectionString: database.url, poolSize: 2, logger: pino({ level: 'silent' }) });
});
afterEach(async () => {
  await clients.close();
  await database.drop();
});

/** A sample on a clock the test moves. */
function decoysAt(clock: { now: number }) {
  return new DecoyHashes(clients.prisma, pino({ level: 'silent' }), { sampleSize: 8, refreshMs: REFRESH_MS, now: () => clock.now });
}
const kinds = async (decoys: DecoyHashes, picks = 20) => new Set(await Promise.all(Array.from({ length: picks }, async () => describeHash(await decoys.pick()))));
const describeHash = (hash: LegacyHash) => (hash.kind === 'bcrypt' ? `bcrypt ${hash.cost}` : hash.kind);

it('with nobody waiting it falls back to the bcrypt dummy, and picks up waiting users once the sample is stale', async () => {
  const clock = { now: 0 };
  const decoys = decoysAt(clock);
  expect(await kinds(decoys)).toEqual(new Set([`bcrypt ${DUMMY_BCRYPT_COST}`]));

  await createLegacyUser(database.url, { encoding: 'pbkdf2-sha256' });
  clock.now = REFRESH_MS - 1;
  expect(await kinds(decoys)).toEqual(new Set([`bcrypt ${DUMMY_BCRYPT_COST}`]));
  clock.now = REFRESH_MS;
  expect(await kinds(decoys)).toEqual(new Set(['pbkdf2']));
});

it('draws only from users who still wait: not migrated, not deleted, with a readable hash', async () => {
  await createLegacyUser(database.url, { encoding: 'scrypt' });
  const migrated = await createLegacyUser(database.url, { encoding: 'argon2id' });
  const deleted = await createLegacyUser(database.url, { encoding: 'bcrypt' });
  await createLegacyUser(database.url, { passwordHash: 'md5:not-a-hash-we-read' });
  await withClient(database.url, async (client) => {
    await client.query('UPDATE users SET migrated_at = now() WHERE auth0_id = $1', [migrated.auth0Id]);
    await client.query('UPDATE users SET deleted_at = now() WHERE auth0_id = $1', [deleted.auth0Id]);
  });
  expect(await kinds(decoysAt({ now: 0 }))).toEqual(new Set(['scrypt']));
});
