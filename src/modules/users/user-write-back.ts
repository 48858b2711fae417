// Changes a user here and in Auth0 as one outcome: lock, apply, call the Management API, commit or roll back.
import type { Logger } from 'pino';
import type { User } from '../../generated/prisma/client';
import type { PrismaClient } from '../../db/prisma';
import { auth0Rejected, badUserInput, notFound, profileSyncedFromIdp, unavailable, writeBackNotConfigured } from '../../errors';
import { Auth0Refused, Auth0Unavailable, type Auth0UsersApi } from './auth0-users-api';
import { describeIdpSyncedRefusal, idpSyncedRefusal } from './idp-synced-profile';
import type { UserPatch } from './user-input';
import { applyAuth0User, columnsFromAnswer, markDeleted, markSyncWrite, USER_COLUMNS, type Tx } from './user-sync-writes';

export interface WriteBackOptions {
  prisma: PrismaClient;
  /** Undefined when no Management API application is configured. */
  api: Auth0UsersApi | undefined;
  /** The settings to set when `api` is undefined, named in the refusal. */
  missingSettings: readonly string[];
  /** The Management API call's timeout; the transaction may last this plus the statements'. */
  auth0TimeoutMs: number;
  /** Write-backs under way at once; more wait up to poolTimeoutMs for a place, then get UNAVAILABLE. */
  maxInFlight: number;
  statementTimeoutMs: number;
  poolTimeoutMs: number;
  logger: Logger;
}

interface LockedUser extends User {
  /** A legacy user not migrated to Auth0 yet (issue 12): a row that still holds a password hash. */
  isLegacy: boolean;
}

/**
 * The GraphQL write-back. Every change first gets an outbox row (`user_changes`, status
 * `in_flight`) committed on its own; the transaction that changes the user marks it `applied`. So
 * a change Auth0 accepted whose commit then failed is never lost: it is converged at once from
 * Auth0's state, and else by the worker (Auth0 wins).
 */
export class UserWriteBack {
  private readonly places: Places;

  constructor(private readonly options: WriteBackOptions) {
    this.places = new Places(options.maxInFlight);
  }

  async update(auth0Id: string, patch: UserPatch): Promise<User> {
    return this.inPlace(() => this.updateNow(auth0Id, patch));
  }

  /** Deletes the user in Auth0, then marks them deleted here, as the log stream's deletion does. */
  async delete(auth0Id: string): Promise<{ auth0Id: string; deletedAt: Date }> {
    return this.inPlace(() => this.deleteNow(auth0Id));
  }

  // Each write-back holds a connection during its Auth0 call: a slow Auth0 must not take them all.
  private async inPlace<T>(write: () => Promise<T>): Promise<T> {
    const release = await this.places.take(this.options.poolTimeoutMs);
    if (!release) throw unavailable('Too many changes to Auth0 are under way; retry shortly.', 1);
    try {
      return await write();
    } finally {
      release();
    }
  }

  private async updateNow(auth0Id: string, patch: UserPatch): Promise<User> {
    const api = await this.readyApi();
    return this.run(auth0Id, patch, async (tx, user) => {
      if (!user || user.deletedAt) throw notFound(`The user ${auth0Id}`);
      if (user.isLegacy) throw badUserInput('auth0Id', 'this legacy user has not moved to Auth0 yet; they have no Auth0 account to change');
      await applyPatch(tx, auth0Id, patch);
      const accepted = await api.updateUser(auth0Id, patch);
      // Auth0 answered with the whole user: every synced field as it now holds it (normalized, and
      // what it changed on its own, e.g. email_verified after an email change) and its updated_at.
      // Columns with a pending SQL change keep it for the worker to send.
      return async () => (await applyAuth0User(tx, accepted, await columnsFromAnswer(tx, auth0Id, Object.keys(patch))))!;
    });
  }

  private async deleteNow(auth0Id: string): Promise<{ auth0Id: string; deletedAt: Date }> {
    const api = await this.readyApi();
    return this.run(auth0Id, { delete: true }, async (tx) => {
      const deletedAt = await markDeleted(tx, auth0Id);
      await api.deleteUser(auth0Id);
      return async () => ({ auth0Id, deletedAt });
    });
  }

  private async readyApi(): Promise<Auth0UsersApi> {
    const { api } = this.options;
    if (!api) throw writeBackNotConfigured(this.options.missingSettings);
    try {
      // The token is fetched before any row is locked.
      await api.ready();
    } catch (error) {
      throw toGraphQLError(error);
    }
    return api;
  }

  private async run<T>(
    auth0Id: string,
    changes: object,
    change: (tx: Tx, user: LockedUser | undefined) => Promise<() => Promise<T>>,
  ): Promise<T> {
    const { prisma, logger } = this.options;
    const [intent] = await prisma.$queryRaw<Array<{ id: bigint }>>`
      INSERT INTO user_changes (auth0_id, source, status, changes) VALUES (${auth0Id}, 'graphql', 'in_flight', ${JSON.stringify(changes)}::jsonb)
      RETURNING id`;
    const id = intent!.id;
    let accepted = false;
    try {
      return await prisma.$transaction(
        async (tx) => {
          await markSyncWrite(tx);
          // The outbox row first: while this transaction lives, the worker skips it (SKIP LOCKED).
          await tx.$queryRaw`SELECT id FROM user_changes WHERE id = ${id} FOR UPDATE`;
          const [user] = await tx.$queryRaw<LockedUser[]>`
            SELECT ${USER_COLUMNS}, (to_jsonb(users) ->> 'password_hash') IS NOT NULL AS "isLegacy"
            FROM users WHERE auth0_id = ${auth0Id} FOR UPDATE`;
          const finish = await change(tx, user);
          accepted = true;
          const result = await finish();
          await tx.$executeRaw`UPDATE user_changes SET status = 'applied', updated_at = now() WHERE id = ${id}`;
          return result;
        },
        { maxWait: this.options.poolTimeoutMs, timeout: this.options.auth0TimeoutMs + 2 * this.options.statementTimeoutMs },
      );
    } catch (error) {
      if (accepted) {
        // Auth0 has the change, our commit failed: Auth0 wins. Converge now; the worker retries otherwise.
        logger.warn({ auth0Id, changeId: String(id), err: error }, 'Auth0 accepted a change whose commit failed; converging from Auth0');
        return this.convergeNow<T>(auth0Id, id, error);
      }
      await this.settle(auth0Id, id, error);
      throw toGraphQLError(error);
    }
  }

  private async convergeNow<T>(auth0Id: string, id: bigint, cause: unknown): Promise<T> {
    try {
      const result = await this.options.prisma.$transaction((tx) => convergeFromAuth0(tx, this.options.api!, auth0Id, id), {
        maxWait: this.options.poolTimeoutMs,
        timeout: this.options.auth0TimeoutMs + 2 * this.options.statementTimeoutMs,
      });
      if (result.deleted) return { auth0Id, deletedAt: result.deletedAt } as T;
      return result.user as T;
    } catch (error) {
      this.options.logger.warn({ auth0Id, changeId: String(id), err: error, cause }, 'converging failed; the worker will retry');
      throw unavailable('Auth0 accepted the change but it could not be saved here yet; it will be, shortly. Read the user again before retrying.');
    }
  }

  /** Records how a change that Auth0 did not accept ended. */
  private async settle(auth0Id: string, id: bigint, error: unknown): Promise<void> {
    let status = 'cancelled';
    let message: string | null = error instanceof Error ? error.message.slice(0, 2000) : null;
    let errorStatus: number | null = null;
    if (error instanceof Auth0Refused) {
      status = 'rejected';
      errorStatus = error.status;
    } else if (error instanceof Auth0Unavailable && error.mayHaveApplied) {
      // A timeout or a 5xx: Auth0 may have applied it. The worker converges this user to Auth0's state.
      status = 'uncertain';
    } else if (!(error instanceof Auth0Unavailable)) {
      message = null;
    }
    if (error instanceof Auth0Unavailable) {
      // Expected (429, 5xx, a timeout): the caller gets UNAVAILABLE with Retry-After. A warning, not an error.
      this.options.logger.warn({ auth0Id, changeId: String(id), outcome: status, reason: error.message }, 'Auth0 unavailable; answered UNAVAILABLE');
    }
    await this.options.prisma.$executeRaw`
      UPDATE user_changes SET status = ${status}, error = ${message}, error_status = ${errorStatus}, updated_at = now() WHERE id = ${id}`.catch((failure: unknown) =>
      this.options.logger.warn({ err: failure, changeId: String(id) }, 'could not record the outcome of a write-back; the worker will converge it'),
    );
  }
}

/** Applies the change to the locked row first, so that the database's own checks run before Auth0 is called. */
async function applyPatch(tx: Tx, auth0Id: string, patch: UserPatch): Promise<void> {
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
  await tx.$executeRaw`
    UPDATE users SET
      email = COALESCE(${patch.email ?? null}::varchar, email),
      email_verified = COALESCE(${patch.email_verified ?? null}::boolean, email_verified),
      name = COALESCE(${patch.name ?? null}::varchar, name),
      picture = COALESCE(${patch.picture ?? null}::varchar, picture),
      blocked = COALESCE(${patch.blocked ?? null}::boolean, blocked),
      app_metadata = CASE WHEN ${json(patch.app_metadata)}::jsonb IS NULL THEN app_metadata
                          ELSE jsonb_strip_nulls(COALESCE(app_metadata, '{}'::jsonb) || ${json(patch.app_metadata)}::jsonb) END,
      user_metadata = CASE WHEN ${json(patch.user_metadata)}::jsonb IS NULL THEN user_metadata
                           ELSE jsonb_strip_nulls(COALESCE(user_metadata, '{}'::jsonb) || ${json(patch.user_metadata)}::jsonb) END,
      updated_at = now()
    WHERE auth0_id = ${auth0Id}`;
}

/**
 * While Auth0 may still apply a change it never answered (a timeout, a 5xx): when it was sent, and
 * until when (database clock) it is read again.
 */
export interface MayStillApply {
  sentAt: Date;
  until: Date;
}

// How often a change Auth0 may still apply is read again, within its window.
const RECHECK_MS = 5_000;

/**
 * Makes this user's row equal to Auth0's current state (Auth0 wins) and marks the change
 * `converged`: after a commit that failed once Auth0 had accepted, or an answer that never came.
 * With `mayStillApply`, Auth0 may apply the change after this read (a hung request it finishes
 * later): unless Auth0's `updated_at` shows a write at or after the change was sent, the change
 * stays `uncertain` and is read again, every few seconds, until the window ends.
 */
export async function convergeFromAuth0(
  tx: Tx,
  api: Auth0UsersApi,
  auth0Id: string,
  changeId: bigint,
  mayStillApply?: MayStillApply,
): Promise<{ deleted: false; user: User | null; settled: boolean } | { deleted: true; deletedAt: Date }> {
  const current = await api.getUser(auth0Id);
  if (!current) {
    await tx.$executeRaw`UPDATE user_changes SET status = 'converged', updated_at = now() WHERE id = ${changeId}`;
    return { deleted: true, deletedAt: await markDeleted(tx, auth0Id) };
  }
  const user = await applyAuth0User(tx, current);
  const seenAfterSend = !mayStillApply || !current.updated_at || new Date(current.updated_at) >= mayStillApply.sentAt;
  if (seenAfterSend) {
    await tx.$executeRaw`UPDATE user_changes SET status = 'converged', updated_at = now() WHERE id = ${changeId}`;
    return { deleted: false, user, settled: true };
  }
  const [left] = await tx.$queryRaw<Array<{ status: string }>>`
    UPDATE user_changes SET attempts = attempts + 1, updated_at = now(),
      status = CASE WHEN now() >= ${mayStillApply.until} THEN 'converged' ELSE status END,
      next_attempt_at = LEAST(${mayStillApply.until}::timestamptz, now() + ${RECHECK_MS} * interval '1 millisecond')
    WHERE id = ${changeId}
    RETURNING status`;
  return { deleted: false, user, settled: left?.status === 'converged' };
}

export function toGraphQLError(error: unknown): unknown {
  if (error instanceof Auth0Refused) {
    if (error.status === 404) return notFound(`The user (Auth0: "${error.message}")`);
    const synced = idpSyncedRefusal(error);
    if (synced) return profileSyncedFromIdp(describeIdpSyncedRefusal(synced, 'userMetadata'), { ...synced, auth0Status: error.status, auth0ErrorCode: error.errorCode });
    return auth0Rejected(error.message, error.status, error.errorCode);
  }
  if (error instanceof Auth0Unavailable) {
    const outcome = error.mayHaveApplied
      ? 'Nothing was changed here; should Auth0 have applied it after all, this user is brought in step with Auth0 shortly.'
      : 'Nothing was changed.';
    return unavailable(`${error.message} ${outcome} Retry after ${error.retryAfterSeconds} s.`, error.retryAfterSeconds);
  }
  return error;
}

/** At most `size` holders at once; the others wait in order, each up to its own deadline. */
class Places {
  private taken = 0;
  private readonly waiting: Array<(granted: boolean) => void> = [];

  constructor(private readonly size: number) {}

  /** A release function once a place is free, or undefined if none freed up within `waitMs`. */
  async take(waitMs: number): Promise<(() => void) | undefined> {
    if (this.taken < this.size) {
      this.taken += 1;
      return this.releaser();
    }
    const granted = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(grant), 1);
        resolve(false);
      }, waitMs);
      const grant = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.waiting.push(grant);
    });
    return granted ? this.releaser() : undefined;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The place passes straight to the next waiter, if any.
      const next = this.waiting.shift();
      if (next) next(true);
      else this.taken -= 1;
    };
  }
}
