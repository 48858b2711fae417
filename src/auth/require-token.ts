// Verifies the bearer token of every request it guards: RS256, issuer, audience, keys from the JWKS.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { auth, UnauthorizedError } from 'express-oauth2-jwt-bearer';
import type { Config } from '../config';

export function requireToken(config: Config['auth']): RequestHandler {
  return auth({
    issuer: config.issuer,
    jwksUri: config.jwksUri,
    audience: config.audience,
    tokenSigningAlg: 'RS256',
    // Known keys keep verifying from the cache while the JWKS is unreachable; an unknown key id
    // (rotation) refetches it, at most once per cooldown.
    cacheMaxAge: config.jwksCacheMaxAgeMs,
    cooldownDuration: config.jwksCooldownMs,
    timeoutDuration: 5000,
    // A request with a bad token must be refused, never treated as anonymous.
    authRequired: true,
    dpop: { enabled: false },
  });
}

/** Answers token failures with 401 (or 400 for a malformed request) and the WWW-Authenticate header. */
export const tokenErrorHandler: ErrorRequestHandler = (error, _req, res, next) => {
  if (!(error instanceof UnauthorizedError)) return next(error);
  res
    .status(error.status)
    .set(error.headers)
    .json({ errors: [{ message: error.message || 'Unauthorized', extensions: { code: 'UNAUTHENTICATED' } }] });
};
