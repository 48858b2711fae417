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
export function patchRefusal(user: ManagementUser, body: Record<string, unknown>): Record<string, unknown> | undefined {
  if ('email' in body && (typeof body.email !== 'string' || !AUTH0_EMAIL.test(body.email))) return invalidEmail(body.email);
  const identities = (user.identities ?? []) as Array<{ isSocial?: boolean }>;
  if ('email' in body && identities[0]?.isSocial) return SOCIAL_EMAIL;
  return undefined;
}

export interface UsersEndpointsOptions {
  /** Runs after a PATCH is stored and before it is answered (tests: a commit failing meanwhile). */
  afterPatch?: () => Promise<void>;
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
  router.patch('/users/:id', express.json({ limit: '1mb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const outcome = store.transact((users) => {
      const user = users.find(req.params.id);
      if (!user) return { status: 404, body: NOT_FOUND };
      const refusal = patchRefusal(user, body);
      if (refusal) return { status: 400, body: refusal };
      const changed: ManagementUser = { ...user };
      for (const [key, value] of Object.entries(body)) {
        changed[key] = key === 'app_metadata' || key === 'user_metadata' ? mergeMetadata(user[key], value as Record<string, unknown>) : value;
      }
      changed.updated_at = nextUpdatedAt();
      users.put(changed);
      return { status: 200, body: changed };
    });
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
