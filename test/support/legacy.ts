// Legacy users for tests: each with its own id, address and password, written the way legacy:import writes them.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { makeLegacyHash, type LegacyEncoding } from '../../src/modules/legacy/make-legacy-hash';
import { auth0IdForLegacyId, upsertLegacyUsers } from '../../src/modules/users/legacy-users';

export interface TestLegacyUser {
  legacyId: string;
  auth0Id: string;
  email: string;
  password: string;
  rowId: string;
}

export interface LegacyUserOptions {
  encoding?: LegacyEncoding;
  password?: string;
  /** A ready-made hash (overrides encoding). */
  passwordHash?: string;
  transactions?: number;
  userMetadata?: Record<string, unknown>;
  appMetadata?: Record<string, unknown>;
}

export async function createLegacyUser(databaseUrl: string, options: LegacyUserOptions = {}): Promise<TestLegacyUser> {
  const legacyId = `lg-${randomUUID()}`;
  const email = `${legacyId}@legacy.example`;
  const password = options.password ?? `pw-${randomUUID()}`;
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  try {
    await upsertLegacyUsers(pool, [
      {
        legacyId,
        email,
        emailVerified: true,
        name: 'Legacy Person',
        picture: null,
        passwordHash: options.passwordHash ?? (await makeLegacyHash(options.encoding ?? 'bcrypt', password)),
        userMetadata: options.userMetadata ?? { theme: 'dark' },
        appMetadata: options.appMetadata ?? { plan: 'gold' },
      },
    ]);
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM users WHERE auth0_id = $1', [auth0IdForLegacyId(legacyId)]);
    const rowId = rows[0]!.id;
    if (options.transactions) {
      await pool.query(
        `INSERT INTO transactions (user_id, amount_minor, currency, occurred_at)
         SELECT $1, -100 - i, 'EUR', timestamptz '2020-01-01' + i * interval '1 day' FROM generate_series(1, $2::int) AS i`,
        [rowId, options.transactions],
      );
    }
    return { legacyId, auth0Id: auth0IdForLegacyId(legacyId), email, password, rowId };
  } finally {
    await pool.end();
  }
}
