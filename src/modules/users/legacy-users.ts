// Writes of legacy users to the users table: the import's batch upsert and the bulk link of `legacy:finish`.
// Both mirror state that exists outside the app (the legacy store, Auth0), not an app's own change.
import type { Pool } from 'pg';

export interface LegacyUserRow {
  legacyId: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  picture: string | null;
  passwordHash: string;
  userMetadata: Record<string, unknown> | null;
  appMetadata: Record<string, unknown> | null;
}

export interface LegacyUpsertCounts {
  created: number;
  updated: number;
  /** Same values already stored, or already migrated (a linked user's row is never given a hash again). */
  unchanged: number;
  /** The address already belongs to another legacy user. */
  emailTaken: string[];
}

/** The Auth0 id a custom database connection gives the user whose login script returned `user_id: legacyId`. */
export const auth0IdForLegacyId = (legacyId: string) => `auth0|${legacyId}`;

// One statement per batch, keyed by the future Auth0 id. A migrated row is left alone, and a line
// whose address another legacy user holds is skipped (the unique index would abort the batch).
const UPSERT_LEGACY_BATCH = `
  WITH input AS (
    SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::bool[], $4::varchar[], $5::varchar[], $6::varchar[], $7::jsonb[], $8::jsonb[])
      AS t(legacy_id, email, email_verified, name, picture, password_hash, user_metadata, app_metadata)
  ), accepted AS (
    SELECT input.* FROM input
     WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.legacy_id IS NOT NULL AND lower(u.email) = lower(input.email) AND u.legacy_id <> input.legacy_id)
  ), written AS (
    INSERT INTO users (auth0_id, legacy_id, email, email_verified, name, picture, password_hash, legacy_user_metadata, legacy_app_metadata)
    SELECT 'auth0|' || legacy_id, legacy_id, email, email_verified, name, picture, password_hash, user_metadata, app_metadata FROM accepted
    ON CONFLICT (auth0_id) DO UPDATE SET
      legacy_id = EXCLUDED.legacy_id, email = EXCLUDED.email, email_verified = EXCLUDED.email_verified, name = EXCLUDED.name,
      picture = EXCLUDED.picture, password_hash = EXCLUDED.password_hash,
      legacy_user_metadata = EXCLUDED.legacy_user_metadata, legacy_app_metadata = EXCLUDED.legacy_app_metadata, updated_at = now()
    WHERE users.migrated_at IS NULL
      AND (users.legacy_id, users.email, users.email_verified, users.name, users.picture, users.password_hash, users.legacy_user_metadata, users.legacy_app_metadata)
          IS DISTINCT FROM
          (EXCLUDED.legacy_id, EXCLUDED.email, EXCLUDED.email_verified, EXCLUDED.name, EXCLUDED.picture, EXCLUDED.password_hash, EXCLUDED.legacy_user_metadata, EXCLUDED.legacy_app_metadata)
    RETURNING (xmax = 0) AS created
  )
  SELECT (SELECT count(*) FILTER (WHERE created) FROM written)::int AS created,
         (SELECT count(*) FILTER (WHERE NOT created) FROM written)::int AS updated,
         (SELECT coalesce(array_agg(legacy_id), '{}') FROM input WHERE legacy_id NOT IN (SELECT legacy_id FROM accepted)) AS email_taken`;

/** Upserts distinct legacy users (distinct ids and addresses) in one statement. */
export async function upsertLegacyUsers(pool: Pool, users: LegacyUserRow[]): Promise<LegacyUpsertCounts> {
  const json = (value: Record<string, unknown> | null) => (value === null ? null : JSON.stringify(value));
  const { rows } = await pool.query<{ created: number; updated: number; email_taken: string[] }>(UPSERT_LEGACY_BATCH, [
    users.map((u) => u.legacyId),
    users.map((u) => u.email),
    users.map((u) => u.emailVerified),
    users.map((u) => u.name),
    users.map((u) => u.picture),
    users.map((u) => u.passwordHash),
    users.map((u) => json(u.userMetadata)),
    users.map((u) => json(u.appMetadata)),
  ]);
  const { created, updated, email_taken: emailTaken } = rows[0]!;
  return { created, updated, unchanged: users.length - created - updated - emailTaken.length, emailTaken };
}

/**
 * Links legacy users that Auth0 now holds (imported by `legacy:finish`): hash erased, migrated_at
 * set. Idempotent; returns the Auth0 ids it linked now.
 */
export async function linkLegacyUsers(pool: Pool, auth0Ids: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ auth0_id: string }>(
    `UPDATE users SET password_hash = NULL, migrated_at = COALESCE(migrated_at, now()), updated_at = now()
      WHERE auth0_id = ANY($1::varchar[]) AND legacy_id IS NOT NULL AND (migrated_at IS NULL OR password_hash IS NOT NULL)
      RETURNING auth0_id`,
    [auth0Ids],
  );
  return rows.map((row) => row.auth0_id);
}
