// The writes that bring Auth0's state into `users` (log stream, reconcile, write-back results), each marked as the sync's own.
import { Pool } from 'pg';
import type { Logger } from 'pino';
import { reportIdleConnectionError } from '../../db/idle-connection-error';
import { Prisma } from '../../generated/prisma/client';
import type { User } from '../../generated/prisma/client';
import type { Auth0User } from './auth0-users-api';

/** The client of an interactive Prisma transaction. */
export type Tx = Prisma.TransactionClient;

/**
 * The users columns as the `User` model names them, for raw SELECT ... RETURNING.
 */
export const USER_COLUMNS = Prisma.sql`
  id, auth0_id AS "auth0Id", email, email_verified AS "emailVerified", name, picture, connection,
  logins_count AS "loginsCount", last_login_at AS "lastLoginAt", created_at AS "createdAt", updated_at AS "updatedAt",
  deleted_at AS "deletedAt", last_event_at AS "lastEventAt", blocked, app_metadata AS "appMetadata",
  user_metadata AS "userMetadata", auth0_updated_at AS "auth0UpdatedAt"`;

/**
 * The push trigger (users_record_app_change) records changes to synced columns unless the
 * transaction says it is the sync writing what Auth0 already holds. `set_config(..., true)` lasts
 * until the end of the transaction, so it also works inside one autocommit statement.
 */
export const SYNC_WRITER_SETTING = 'auth0_sync.writer';
export const MARK_SYNC_WRITE = Prisma.sql`set_config('auth0_sync.writer', 'sync', true)`;

export async function markSyncWrite(tx: Tx): Promise<void> {
  await tx.$queryRaw`SELECT ${MARK_SYNC_WRITE}`;
}

/**
 * A pg pool whose every connection writes as the sync (import, backfill, reconcile): their
 * batches are Auth0's own data and must never be pushed back to it.
 */
export function createSyncWriterPool(connectionString: string, max = 2, logger?: Logger): SyncWriterPool {
  const pool = new Pool({ connectionString, max, options: `-c ${SYNC_WRITER_SETTING}=sync` });
  // An idle connection that dies is dropped by the pool; unheard, its error would end the process.
  // It happens at every stop: pool.end() resolves before its sockets have closed, so the embedded
  // Postgres, stopped next, may still reach one with "terminating connection due to administrator command".
  pool.on('error', (error) => {
    if (!pool.ending) reportIdleConnectionError(logger, error);
  });
  return Object.assign(pool, { syncWriter: true as const });
}

/** A pool whose connections are marked as the sync's (createSyncWriterPool). */
export type SyncWriterPool = Pool & { readonly syncWriter: true };

/** A log stream deletion (`sdu`): a user not seen yet gets a tombstone, so a late sign-up cannot bring them back. */
export async function applyAuth0Deletion(tx: Tx, auth0Id: string, at: Date): Promise<void> {
  await markSyncWrite(tx);
  await tx.$executeRaw`
    INSERT INTO users (auth0_id, deleted_at, last_event_at) VALUES (${auth0Id}, ${at}, ${at})
    ON CONFLICT (auth0_id) DO UPDATE SET
      deleted_at = LEAST(COALESCE(users.deleted_at, EXCLUDED.deleted_at), EXCLUDED.deleted_at),
      last_event_at = GREATEST(users.last_event_at, EXCLUDED.last_event_at),
      updated_at = now()`;
}

/**
 * A log stream sign-up or login: ensures the user exists. An event older than one already applied
 * changes nothing, and an event older than the Auth0 state written here (e.g. by a write-back: the
 * echo of our own change) never overwrites the email.
 */
export async function applyAuth0SignIn(tx: Tx, event: { auth0Id: string; email: string | null; connection: string | null; at: Date }): Promise<void> {
  await markSyncWrite(tx);
  await tx.$executeRaw`
    INSERT INTO users (auth0_id, email, connection, last_event_at) VALUES (${event.auth0Id}, ${event.email}, ${event.connection}, ${event.at})
    ON CONFLICT (auth0_id) DO UPDATE SET
      email = CASE WHEN users.auth0_updated_at IS NULL OR users.auth0_updated_at < EXCLUDED.last_event_at
                   THEN COALESCE(EXCLUDED.email, users.email) ELSE users.email END,
      connection = COALESCE(users.connection, EXCLUDED.connection),
      last_event_at = EXCLUDED.last_event_at,
      updated_at = now()
    WHERE users.last_event_at IS NULL OR users.last_event_at < EXCLUDED.last_event_at`;
}

/** The users columns that mirror Auth0 fields of the same name, and that the app may change. */
export const SYNCED_COLUMNS = ['email', 'email_verified', 'name', 'picture', 'blocked', 'app_metadata', 'user_metadata'] as const;
export type SyncedColumn = (typeof SYNCED_COLUMNS)[number];

/**
 * The columns to store from Auth0's answer to a PATCH: every synced field, since Auth0 may change
 * more than was sent (a new email comes back unverified), except the columns of other SQL changes
 * still waiting to be sent, which keep the app's value for the worker to send. A column that was
 * sent is always stored.
 */
export async function columnsFromAnswer(tx: Tx, auth0Id: string, sent: readonly string[], exceptChangeId: bigint = -1n): Promise<SyncedColumn[]> {
  const pending = await tx.$queryRaw<Array<{ name: string }>>`
    SELECT DISTINCT jsonb_object_keys(changes) AS name FROM user_changes
    WHERE auth0_id = ${auth0Id} AND source = 'sql' AND status = 'pending' AND id <> ${exceptChangeId}`;
  const waiting = new Set(pending.map((row) => row.name));
  return SYNCED_COLUMNS.filter((column) => sent.includes(column) || !waiting.has(column));
}

/**
 * Writes a user as Auth0 answered it: every synced column (converging: Auth0 wins), or only
 * `columns` (after a write-back, `columnsFromAnswer`: so that other pending changes keep their values).
 * Auth0's `updated_at` orders the copies: an older copy than the one stored changes nothing.
 * Returns the row as stored, or null if there is none.
 */
export async function applyAuth0User(tx: Tx, user: Auth0User, columns: readonly SyncedColumn[] = SYNCED_COLUMNS): Promise<User | null> {
  await markSyncWrite(tx);
  const updatedAt = user.updated_at ? new Date(user.updated_at) : new Date();
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
  const has = (column: SyncedColumn) => columns.includes(column);
  const [updated] = await tx.$queryRaw<User[]>`
    UPDATE users SET
      email = CASE WHEN ${has('email')} THEN ${user.email ?? null}::varchar ELSE email END,
      email_verified = CASE WHEN ${has('email_verified')} THEN ${user.email_verified ?? false}::boolean ELSE email_verified END,
      name = CASE WHEN ${has('name')} THEN ${user.name ?? null}::varchar ELSE name END,
      picture = CASE WHEN ${has('picture')} THEN ${user.picture ?? null}::varchar ELSE picture END,
      blocked = CASE WHEN ${has('blocked')} THEN ${user.blocked ?? false}::boolean ELSE blocked END,
      app_metadata = CASE WHEN ${has('app_metadata')} THEN ${json(user.app_metadata)}::jsonb ELSE app_metadata END,
      user_metadata = CASE WHEN ${has('user_metadata')} THEN ${json(user.user_metadata)}::jsonb ELSE user_metadata END,
      auth0_updated_at = ${updatedAt},
      updated_at = now()
    WHERE auth0_id = ${user.user_id} AND (auth0_updated_at IS NULL OR auth0_updated_at <= ${updatedAt})
    RETURNING ${USER_COLUMNS}`;
  if (updated) return updated;
  const [stored] = await tx.$queryRaw<User[]>`SELECT ${USER_COLUMNS} FROM users WHERE auth0_id = ${user.user_id}`;
  return stored ?? null;
}

/** Marks a user deleted (Auth0 no longer has them), creating a tombstone if the row is missing. */
export async function markDeleted(tx: Tx, auth0Id: string): Promise<Date> {
  await markSyncWrite(tx);
  const [row] = await tx.$queryRaw<Array<{ deletedAt: Date }>>`
    INSERT INTO users (auth0_id, deleted_at) VALUES (${auth0Id}, now())
    ON CONFLICT (auth0_id) DO UPDATE SET deleted_at = COALESCE(users.deleted_at, EXCLUDED.deleted_at), updated_at = now()
    RETURNING deleted_at AS "deletedAt"`;
  return row!.deletedAt;
}

