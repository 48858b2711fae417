// The few kinds of error the API answers with, each a GraphQLError with a fixed extensions.code.
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'UNAVAILABLE'
  | 'AUTH0_REJECTED'
  | 'PROFILE_SYNCED_FROM_IDP'
  | 'WRITE_BACK_NOT_CONFIGURED'
  | 'INTERNAL_SERVER_ERROR';

const error = (code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { ...extensions, code } });

export const unauthenticated = (message = 'A valid access token is required.') => error('UNAUTHENTICATED', message);

export const forbidden = (message: string) => error('FORBIDDEN', message);

/** `field` is the input path of the offending value, e.g. `input.email`. */
export const badUserInput = (field: string, message: string) => error('BAD_USER_INPUT', `${field}: ${message}`, { field });

export const notFound = (what: string) => error('NOT_FOUND', `${what} was not found.`);

/** `retryAfter` (seconds) becomes the response's Retry-After header. */
export const unavailable = (message = 'The service is temporarily unavailable; retry shortly.', retryAfter?: number) =>
  error('UNAVAILABLE', message, retryAfter === undefined ? {} : { retryAfter });

/** Auth0 refused a change (e.g. an invalid email): its own message, its HTTP status and error code. */
export const auth0Rejected = (message: string, auth0Status: number, auth0ErrorCode?: string) =>
  error('AUTH0_REJECTED', message, { auth0Status, ...(auth0ErrorCode ? { auth0ErrorCode } : {}) });

/**
 * Auth0 refused profile fields that the user's social or enterprise connection syncs at each login:
 * `connection` and `fields` name them, beside Auth0's status and error code.
 */
export const profileSyncedFromIdp = (message: string, details: { connection: string; fields: string[]; auth0Status: number; auth0ErrorCode?: string }) =>
  error('PROFILE_SYNCED_FROM_IDP', message, details);

/**
 * The write-back cannot run on this server at all (no Management API settings): a configuration gap
 * that retrying will not fix, so no Retry-After (HTTP 501). `missing` lists every setting to set.
 */
export const writeBackNotConfigured = (missing: readonly string[]) =>
  error('WRITE_BACK_NOT_CONFIGURED', `Changing users writes them back to Auth0 through the Management API, which this server is not configured for: set ${missing.join(', ')}.`, {
    missingSettings: [...missing],
  });

export const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'UNAVAILABLE', 'AUTH0_REJECTED', 'PROFILE_SYNCED_FROM_IDP', 'WRITE_BACK_NOT_CONFIGURED']);
