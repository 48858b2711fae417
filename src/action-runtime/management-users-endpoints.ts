// Auth0's Management API users endpoints (GET, PATCH, DELETE /users/:id) with Auth0's answers and refusals, over any store.
import express, { type Router } from 'express';

/** A user as the Management API returns it. */
export type ManagementUser = Record<string, unknown> & { user_id: string };

export interface ManagementUsers {
  find(userId: string): ManagementUser | undefined;
  /** Makes the changed user the stored one. */
  put(user: ManagementUser): void;
  remove(userId: string): void;
}

/** Runs `work` with the users, alone (no other writer in between), and keeps what it changed. */
export interface ManagementUsersStore {
  transact<T>(work: (users: ManagementUsers) => T): T;
}

// The answers below follow Auth0's Management API v2 reference (auth0.com/docs/api/management/v2/users/
// get-users-by-id, patch-users-by-id, delete-users-by-id) and the answers recorded against it in
// /work/shared/FACTS.md ("Auth0 facts used by the open issues").
// 404 on GET/PATCH of an unknown user, with Auth0's errorCode `inexistent_user`.
const NOT_FOUND = { statusCode: 404, error: 'Not Found', message: 'The user does not exist.', errorCode: 'inexistent_user' };
// Auth0's email format check is stricter than RFC 5321/6531: no quoted local part, ASCII only.
const AUTH0_EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** 400 invalid_body for an email Auth0's format check refuses (FACTS.md: "Payload validation error: ..."). */
const invalidEmail = (email: unknown) => ({
  statusCode: 400,
  error: 'Bad Request',
  message: `Payload validation error: 'Object didn't pass validation for format email: ${String(email)}' on property email (The user's email).`,
  errorCode: 'invalid_body',
});

// A social user's address belongs to the identity provider (FACTS.md: 400 "Cannot update email for this user").
const SOCIAL_EMAIL = { statusCode: 400, error: 'Bad Request', message: 'Cannot update email for this user' };

/** Auth0 merges metadata key by key on PATCH; a key set to null is removed. */
function mergeMetadata(stored: unknown, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...((stored ?? {}) as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** The refusal Auth0 answers this PATCH with, if any. */
export function patchRefusal(user: ManagementUser, body: Record<string, unknown>, profileSync: ProfileSyncOf = () => undefined): Record<string, unknown> | undefined {
  if ('email' in body && (typeof body.email !== 'string' || !AUTH0_EMAIL.test(body.email))) return invalidEmail(body.email);
  const identities = (user.identities ?? []) as Array<{ isSocial?: boolean }>;
  if ('email' in body && identities[0]?.isSocial) return SOCIAL_EMAIL;
  return refuseProfileSyncedFromIdp(user, body, profileSync);
}

/** A connection's `set_user_root_attributes` (undefined: Auth0's default, `on_each_login`). */
export type ProfileSyncOf = (connection: string) => string | undefined;

// The root attributes an upstream identity provider owns while the connection syncs them at each login.
const IDP_SYNCED_ATTRIBUTES = ['family_name', 'given_name', 'name', 'nickname', 'picture'];

/**
 * Auth0's 400 for a PATCH of `name`, `picture`, `given_name`, `family_name` or `nickname` of a user
 * from a social or enterprise connection whose `set_user_root_attributes` is `on_each_login` (the
 * default, "Sync user profile attributes at each login"); undefined when Auth0 accepts it.
 * Sources: Auth0's docs `manage-users/user-accounts/user-profiles/configure-connection-sync-with-auth0`
 * (the setting, `on_each_login` / `on_first_login` / `never_on_login`, the default for new
 * connections) and a real answer quoted in github.com/rfcx/arbimon issue #1397:
 * {"statusCode":400,"error":"Bad Request","message":"The following user attributes cannot be updated:
 * family_name, given_name, picture. The connection (google-oauth2) must either be a database connection
 * (using the Auth0 store), a passwordless connection (email or sms) or has disabled 'Sync user profile
 * attributes at each login'. For more information, see https://auth0.com/docs/dashboard/guides/connections/configure-connection-sync","errorCode":"operation_not_supported"}
 * (auth0/terraform-provider-auth0 issue #400 describes the same refusal).
 */
function refuseProfileSyncedFromIdp(user: ManagementUser, body: Record<string, unknown>, profileSync: ProfileSyncOf): Record<string, unknown> | undefined {
  const identity = ((user.identities ?? []) as Array<{ connection?: string; provider?: string }>)[0];
  if (!identity?.connection) return undefined;
  const provider = identity.provider ?? String(user.user_id).split('|')[0];
  if (provider === 'auth0' || provider === 'email' || provider === 'sms') return undefined;
  if ((profileSync(identity.connection) ?? 'on_each_login') !== 'on_each_login') return undefined;
  const refused = IDP_SYNCED_ATTRIBUTES.filter((attribute) => attribute in body);
  if (refused.length === 0) return undefined;
  return {
    statusCode: 400,
    error: 'Bad Request',
    message:
      `The following user attributes cannot be updated: ${refused.join(', ')}. The connection (${identity.connection}) must either be a database connection ` +
      "(using the Auth0 store), a passwordless connection (email or sms) or has disabled 'Sync user profile attributes at each login'. " +
      'For more information, see https://auth0.com/docs/dashboard/guides/connections/configure-connection-sync',
    errorCode: 'operation_not_supported',
  };
}

/**
 * A new email address is unverified unless the PATCH says otherwise: the Management API's
 * "Update a user" (`PATCH /api/v2/users/{id}`, api/management/v2/users/patch-users-by-id) documents
 * `email_verified` beside `email` and `verify_email` for this, and Auth0 writes the new address
 * "even if it's not verified yet" (community.auth0.com/t/update-user-email-the-right-way/6285).
 */
function emailVerifiedAfterPatch(user: ManagementUser, body: Record<string, unknown>): unknown {
  if ('email_verified' in body) return body.email_verified;
  if ('email' in body && body.email !== user.email) return false;
  return user.email_verified;
}

export interface UsersEndpointsOptions {
  /** Runs after a PATCH is stored and before it is answered (tests: a commit failing meanwhile). */
  afterPatch?: () => Promise<void>;
  /** Each connection's profile sync setting (default: every connection syncs at each login, Auth0's default). */
  profileSync?: ProfileSyncOf;
  /**
   * Tests: when this returns a function, the PATCH is left unanswered (the client times out) and the
   * function gets what applies it later, as Auth0 may still apply a PATCH its caller gave up on.
   */
  holdPatch?: () => ((applyLate: () => void) => void) | undefined;
}

/** The router, to mount under /api/v2 behind the host's own token check. */
export function managementUsersEndpoints(store: ManagementUsersStore, options: UsersEndpointsOptions = {}): Router {
  let lastUpdatedAt = 0;
  // Strictly increasing, as the write-back compares updated_at to tell newer from older.
  const nextUpdatedAt = () => new Date((lastUpdatedAt = Math.max(Date.now(), lastUpdatedAt + 1))).toISOString();
  const router = express.Router();
  router.get('/users/:id', (req, res) => {
    const user = store.transact((users) => users.find(req.params.id));
    if (!user) return void res.status(404).json(NOT_FOUND);
    res.json(user);
  });
  const applyPatch = (userId: string, body: Record<string, unknown>) =>
    store.transact((users) => {
      const user = users.find(userId);
      if (!user) return { status: 404, body: NOT_FOUND };
      const refusal = patchRefusal(user, body, options.profileSync);
      if (refusal) return { status: 400, body: refusal };
      const changed: ManagementUser = { ...user };
      for (const [key, value] of Object.entries(body)) {
        changed[key] = key === 'app_metadata' || key === 'user_metadata' ? mergeMetadata(user[key], value as Record<string, unknown>) : value;
      }
      changed.email_verified = emailVerifiedAfterPatch(user, body);
      changed.updated_at = nextUpdatedAt();
      users.put(changed);
      return { status: 200, body: changed };
    });
  router.patch('/users/:id', express.json({ limit: '1mb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const hold = options.holdPatch?.();
    if (hold) return void hold(() => applyPatch(req.params.id, body)); // no answer: Auth0 applies it when the test says so
    const outcome = applyPatch(req.params.id, body);
    if (outcome.status === 200 && options.afterPatch) await options.afterPatch();
    res.status(outcome.status).json(outcome.body);
  });
  // 204 whether or not the user exists, so a retried deletion succeeds (FACTS.md).
  router.delete('/users/:id', (req, res) => {
    store.transact((users) => users.remove(req.params.id));
    res.status(204).end();
  });
  return router;
}
