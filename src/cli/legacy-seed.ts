// `npm run legacy:seed`: a demo legacy user base (one user per hash encoding) with transactions and known passwords.
import { makeLegacyHash, type LegacyEncoding } from '../modules/legacy/make-legacy-hash';
import { auth0IdForLegacyId, upsertLegacyUsers } from '../modules/users/legacy-users';
import { openSyncDatabase } from './sync-database';

export const LEGACY_SEED_USERS: Array<{ id: string; email: string; name: string; password: string; encoding: LegacyEncoding }> = [
  { id: 'legacy-1001', email: 'margaret@legacy.example', name: 'Margaret Hamilton', password: 'apollo-11-guidance', encoding: 'bcrypt' },
  { id: 'legacy-1002', email: 'katherine@legacy.example', name: 'Katherine Johnson', password: 'orbital mechanics ✓', encoding: 'argon2id' },
  { id: 'legacy-1003', email: 'dorothy@legacy.example', name: 'Dorothy Vaughan', password: 'fortran-for-all', encoding: 'scrypt' },
  { id: 'legacy-1004', email: 'mary@legacy.example', name: 'Mary Jackson', password: 'wind-tunnel-4', encoding: 'pbkdf2-sha256-django' },
  // The common PHP/Java store: sha1(salt + password), held as Auth0's custom_password_hash object.
  { id: 'legacy-1005', email: 'annie@legacy.example', name: 'Annie Easley', password: 'centaur upper stage', encoding: 'sha1-salted' },
];

const PAYEES = ['Bookshop', 'Groceries', 'Rent', 'Salary', 'Pharmacy', 'Bus pass'];

async function seedLegacyUsers(): Promise<void> {
  const db = await openSyncDatabase();
  try {
    const rows = await Promise.all(
      LEGACY_SEED_USERS.map(async (user) => ({
        legacyId: user.id,
        email: user.email,
        emailVerified: true,
        name: user.name,
        picture: null,
        passwordHash: await makeLegacyHash(user.encoding, user.password),
        userMetadata: { theme: 'dark', newsletter: true },
        appMetadata: { plan: 'legacy-gold', legacy_customer_since: 2014 },
      })),
    );
    // A re-run never replaces a stored hash with a fresh one (nor touches a migrated user): only missing users are added.
    const { rows: present } = await db.pool.query<{ legacy_id: string }>('SELECT legacy_id FROM users WHERE legacy_id = ANY($1)', [rows.map((row) => row.legacyId)]);
    const known = new Set(present.map((row) => row.legacy_id));
    const missing = rows.filter((row) => !known.has(row.legacyId));
    if (missing.length > 0) await upsertLegacyUsers(db.pool, missing);
    for (const [index, user] of LEGACY_SEED_USERS.entries()) {
      // Years of history, deterministic so that a re-run adds nothing.
      await db.pool.query(
        `INSERT INTO transactions (user_id, amount_minor, currency, description, occurred_at)
         SELECT u.id, ((i * 7919 + $2::int * 104729) % 9000 + 150) * CASE WHEN i % 6 = 3 THEN 1 ELSE -1 END, 'EUR', ($3::text[])[1 + i % 6],
                timestamptz '2019-01-01' + i * interval '9 days'
           FROM users u, generate_series(0, 24) AS i
          WHERE u.auth0_id = $1 AND NOT EXISTS (SELECT 1 FROM transactions t WHERE t.user_id = u.id)`,
        [auth0IdForLegacyId(user.id), index, PAYEES],
      );
    }
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`Legacy users (${missing.length} added now; each has 25 transactions since 2019):`);
    for (const user of LEGACY_SEED_USERS) out(`  ${user.email.padEnd(26)} password: ${JSON.stringify(user.password).padEnd(24)} ${user.encoding} hash, will be auth0|${user.id}`);
    out('Try the first login of one, with the server running (npm start):');
    out(`  npm run login:simulate -- --connection legacy-db --email ${LEGACY_SEED_USERS[0]!.email} --password '${LEGACY_SEED_USERS[0]!.password}'`);
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  seedLegacyUsers().catch((error: unknown) => {
    process.stderr.write(`legacy:seed failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
