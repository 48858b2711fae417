// Sends the app's SQL changes to users (recorded by a trigger) to Auth0, restores them when Auth0 refuses, and converges unsettled write-backs.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { PrismaClient } from '../../db/prisma';
import { Auth0Refused, Auth0Unavailable, type Auth0UsersApi, type Auth0UserPatch } from './auth0-users-api';
import { describeIdpSyncedRefusal, idpSyncedRefusal } from './idp-synced-profile';
import { convergeFromAuth0 } from './user-write-back';
import { applyAuth0User, columnsFromAnswer, markSyncWrite, type SyncedColumn, type Tx } from './user-sync-writes';

interface ChangeRow {
  id: bigint;
  auth0Id: string;
  source: 'sql' | 'graphql';
  status: string;
  changes: Record<string, unknown>;
  previous: Record<string, unknown> | null;
  createdAt: Date;
  /** Until when Auth0 may still apply an `uncertain` change (created_at + convergeAfterMs). */
  settlesAt: Date;
}

export interface PushCounts {
  sent: number;
  refused: number;
  converged: number;
  /** Read and left open: Auth0 never answered them and may still apply them (read again shortly). */
  awaitingAuth0: number;
  /** Left for a later pass: Auth0 was unavailable (429, 5xx, timeout). */
  deferred: number;
}

// One pusher per database at a time, so that one user's changes reach Auth0 in the order they were made.
const PUSHER_LOCK_KEY = 0x75736572; // "user"

export class UserChangesPusher {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly api: Auth0UsersApi,
    private readonly options: { convergeAfterMs: number; auth0TimeoutMs: number; statementTimeoutMs: number; logger: Logger },
  ) {}

  /**
   * One pass: every pending SQL change in order, then every write-back left unsettled (Auth0 timed
   * out, or our commit failed after Auth0 accepted). Stops early when Auth0 is unavailable.
   */
  async pushOnce(): Promise<PushCounts> {
    const counts: PushCounts = { sent: 0, refused: 0, converged: 0, awaitingAuth0: 0, deferred: 0 };
    await this.api.ready();
    for (;;) {
      const outcome = await this.prisma.$transaction(
        async (tx) => {
          const [locked] = await tx.$queryRaw<Array<{ locked: boolean }>>`SELECT pg_try_advisory_xact_lock(${PUSHER_LOCK_KEY}) AS locked`;
          if (!locked?.locked) return 'busy' as const;
          await markSyncWrite(tx);
          const [change] = await tx.$queryRaw<ChangeRow[]>`
            SELECT id, auth0_id AS "auth0Id", source, status, changes, previous, created_at AS "createdAt",
                   created_at + ${this.options.convergeAfterMs} * interval '1 millisecond' AS "settlesAt"
            FROM user_changes
            WHERE next_attempt_at <= now()
              AND (status IN ('pending', 'uncertain')
                   OR (status = 'in_flight' AND created_at < now() - ${this.options.convergeAfterMs} * interval '1 millisecond'))
            ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`;
          if (!change) return 'done' as const;
          return change.source === 'sql' ? this.push(tx, change) : this.converge(tx, change);
        },
        { timeout: this.options.auth0TimeoutMs + 3 * this.options.statementTimeoutMs },
      );
      if (outcome === 'done' || outcome === 'busy') return counts;
      counts[outcome] += 1;
      if (outcome === 'deferred') return counts;
    }
  }

  private async push(tx: Tx, change: ChangeRow): Promise<keyof PushCounts> {
    // The user's row stays locked while Auth0 is asked, so the restore below sees what was sent.
    const [user] = await tx.$queryRaw<Array<Record<SyncedColumn, unknown> & { deletedAt: Date | null }>>`
      SELECT email, email_verified, name, picture, blocked, app_metadata, user_metadata, deleted_at AS "deletedAt"
      FROM users WHERE auth0_id = ${change.auth0Id} FOR UPDATE`;
    if (!user || user.deletedAt) {
      await tx.$executeRaw`UPDATE user_changes SET status = 'cancelled', error = 'the user was deleted', updated_at = now() WHERE id = ${change.id}`;
      return 'refused';
    }
    // Only what the row still holds: a column written again since (a write-back, the sync) is not sent back.
    const current = currentChanges(change, user);
    if (Object.keys(current.changes).length === 0) {
      await tx.$executeRaw`UPDATE user_changes SET status = 'superseded', updated_at = now() WHERE id = ${change.id}`;
      return 'sent';
    }
    try {
      const accepted = await this.api.updateUser(change.auth0Id, toAuth0Patch(current));
      // Auth0's whole answer, as the GraphQL path stores it; later SQL changes keep their values.
      await applyAuth0User(tx, accepted, await columnsFromAnswer(tx, change.auth0Id, Object.keys(current.changes), change.id));
      await tx.$executeRaw`UPDATE user_changes SET status = 'sent', attempts = attempts + 1, error = NULL, updated_at = now() WHERE id = ${change.id}`;
      return 'sent';
    } catch (error) {
      if (error instanceof Auth0Refused) {
        await restorePrevious(tx, change.id);
        await tx.$executeRaw`
          UPDATE user_changes SET status = 'refused', attempts = attempts + 1, error = ${refusalMessage(error).slice(0, 2000)}, error_status = ${error.status}, updated_at = now()
          WHERE id = ${change.id}`;
        this.options.logger.info({ auth0Id: change.auth0Id, changeId: String(change.id), status: error.status }, 'Auth0 refused a SQL change; the row was restored');
        return 'refused';
      }
      return this.defer(tx, change, error);
    }
  }

  private async converge(tx: Tx, change: ChangeRow): Promise<keyof PushCounts> {
    try {
      // Auth0 never answered an `uncertain` change: it may apply it after this read, so the change
      // is read again until Auth0 shows a write since it was sent, or until USERS_CONVERGE_AFTER_MS.
      const mayStillApply = change.status === 'uncertain' ? { sentAt: change.createdAt, until: change.settlesAt } : undefined;
      const result = await convergeFromAuth0(tx, this.api, change.auth0Id, change.id, mayStillApply);
      return result.deleted || result.settled ? 'converged' : 'awaitingAuth0';
    } catch (error) {
      return this.defer(tx, change, error);
    }
  }

  private async defer(tx: Tx, change: ChangeRow, error: unknown): Promise<'deferred'> {
    const retryAfter = error instanceof Auth0Unavailable ? error.retryAfterSeconds : 5;
    const message = error instanceof Error ? error.message.slice(0, 2000) : String(error);
    await tx.$executeRaw`
      UPDATE user_changes SET attempts = attempts + 1, error = ${message}, next_attempt_at = now() + ${retryAfter} * interval '1 second', updated_at = now()
      WHERE id = ${change.id}`;
    this.options.logger.warn({ auth0Id: change.auth0Id, changeId: String(change.id), retryAfter }, 'Auth0 unavailable; the change waits for the next pass');
    return 'deferred';
  }

  /** Runs a pass every `intervalMs` until stopped; a failed pass is logged and the next one tries again. */
  start(intervalMs: number): { stop(): Promise<void> } {
    let stopped = false;
    let running: Promise<unknown> = Promise.resolve();
    const tick = () => {
      if (stopped) return;
      running = this.pushOnce()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'pushing user changes to Auth0 failed; retrying on the next pass'))
        .finally(() => {
          if (!stopped) timer = setTimeout(tick, intervalMs);
        });
    };
    let timer = setTimeout(tick, intervalMs);
    return {
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        await running;
      },
    };
  }
}

/** Auth0's own message, or, for profile fields synced from an identity provider, what happened and what to do (with the GraphQL code, to search for). */
function refusalMessage(error: Auth0Refused): string {
  const synced = idpSyncedRefusal(error);
  return synced ? `PROFILE_SYNCED_FROM_IDP: ${describeIdpSyncedRefusal(synced, 'user_metadata')} (Auth0: ${error.message})` : error.message;
}

/** The part of a change that the row still holds. */
function currentChanges(change: ChangeRow, row: Record<SyncedColumn, unknown>): Pick<ChangeRow, 'changes' | 'previous'> {
  const same = (a: unknown, b: unknown) => isDeepStrictEqual(a ?? null, b ?? null);
  const changes = Object.fromEntries(Object.entries(change.changes).filter(([column, value]) => same(row[column as SyncedColumn], value)));
  return { changes, previous: change.previous };
}

/**
 * The change as Auth0's PATCH body. Auth0 merges metadata key by key, so a key the app removed
 * is sent as null (which deletes it), and the object ends up equal to the row's.
 */
export function toAuth0Patch(change: Pick<ChangeRow, 'changes' | 'previous'>): Auth0UserPatch {
  const patch: Record<string, unknown> = { ...change.changes };
  for (const key of ['app_metadata', 'user_metadata'] as const) {
    if (!(key in change.changes)) continue;
    const next = (change.changes[key] ?? {}) as Record<string, unknown>;
    const before = (change.previous?.[key] ?? {}) as Record<string, unknown>;
    patch[key] = { ...Object.fromEntries(Object.keys(before).map((name) => [name, null])), ...next };
  }
  return patch as Auth0UserPatch;
}

/** Puts back the previous value of each refused column, unless the app has changed it again since. */
async function restorePrevious(tx: Tx, changeId: bigint): Promise<void> {
  await tx.$executeRaw`
    UPDATE users SET
      email = CASE WHEN c.changes ? 'email' AND users.email IS NOT DISTINCT FROM c.changes ->> 'email' THEN c.previous ->> 'email' ELSE users.email END,
      email_verified = CASE WHEN c.changes ? 'email_verified' AND users.email_verified = (c.changes ->> 'email_verified')::boolean
                            THEN (c.previous ->> 'email_verified')::boolean ELSE users.email_verified END,
      name = CASE WHEN c.changes ? 'name' AND users.name IS NOT DISTINCT FROM c.changes ->> 'name' THEN c.previous ->> 'name' ELSE users.name END,
      picture = CASE WHEN c.changes ? 'picture' AND users.picture IS NOT DISTINCT FROM c.changes ->> 'picture' THEN c.previous ->> 'picture' ELSE users.picture END,
      blocked = CASE WHEN c.changes ? 'blocked' AND users.blocked = (c.changes ->> 'blocked')::boolean THEN (c.previous ->> 'blocked')::boolean ELSE users.blocked END,
      app_metadata = CASE WHEN c.changes ? 'app_metadata' AND users.app_metadata IS NOT DISTINCT FROM NULLIF(c.changes -> 'app_metadata', 'null'::jsonb)
                          THEN NULLIF(c.previous -> 'app_metadata', 'null'::jsonb) ELSE users.app_metadata END,
      user_metadata = CASE WHEN c.changes ? 'user_metadata' AND users.user_metadata IS NOT DISTINCT FROM NULLIF(c.changes -> 'user_metadata', 'null'::jsonb)
                           THEN NULLIF(c.previous -> 'user_metadata', 'null'::jsonb) ELSE users.user_metadata END,
      updated_at = now()
    FROM user_changes c
    WHERE c.id = ${changeId} AND users.auth0_id = c.auth0_id`;
}
