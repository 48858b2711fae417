// Owns the bulk write to users: a batch of Auth0 users upserted by Auth0 id, for import, backfill and reconcile.
import type { Pool } from 'pg';

/** One user as an Auth0 export or the Management API describes them, already validated. */
export interface ImportedUser {
  auth0Id: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  picture: string | null;
  connection: string | null;
  loginsCount: number;
  lastLoginAt: string | null;
}

export interface BulkUpsertCounts {
  created: number;
  updated: number;
  unchanged: number;
}

// One statement per batch: unnest the columns, upsert by auth0_id, and say which rows were created.
// A row whose values are all the same is not touched (and not returned): it counts as unchanged.
const UPSERT_BATCH = `
  INSERT INTO users (auth0_id, email, email_verified, name, picture, connection, logins_count, last_login_at)
  SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::bool[], $4::varchar[], $5::varchar[], $6::varchar[], $7::int[], $8::timestamptz[])
  ON CONFLICT (auth0_id) DO UPDATE SET
    email = EXCLUDED.email, email_verified = EXCLUDED.email_verified, name = EXCLUDED.name,
    picture = EXCLUDED.picture, connection = EXCLUDED.connection,
    logins_count = GREATEST(users.logins_count, EXCLUDED.logins_count),
    last_login_at = GREATEST(users.last_login_at, EXCLUDED.last_login_at),
    updated_at = now()
  WHERE (users.email, users.email_verified, users.name, users.picture, users.connection,
         GREATEST(users.logins_count, EXCLUDED.logins_count), GREATEST(users.last_login_at, EXCLUDED.last_login_at))
        IS DISTINCT FROM
        (EXCLUDED.email, EXCLUDED.email_verified, EXCLUDED.name, EXCLUDED.picture, EXCLUDED.connection,
         users.logins_count, users.last_login_at)
  RETURNING (xmax = 0) AS created`;

/** One statement for a batch of distinct users; says how many were created, updated or left unchanged. */
export async function upsertUsers(pool: Pool, users: ImportedUser[]): Promise<BulkUpsertCounts> {
  const { rows } = await pool.query<{ created: boolean }>(UPSERT_BATCH, [
    users.map((u) => u.auth0Id),
    users.map((u) => u.email),
    users.map((u) => u.emailVerified),
    users.map((u) => u.name),
    users.map((u) => u.picture),
    users.map((u) => u.connection),
    users.map((u) => u.loginsCount),
    users.map((u) => u.lastLoginAt),
  ]);
  const created = rows.filter((row) => row.created).length;
  return { created, updated: rows.length - created, unchanged: users.length - rows.length };
}
