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
export function tokenErrorHandler(config: Config['auth']): ErrorRequestHandler {
  // The local issuer's URL holds the server's port, so a token minted for another port is the
  // newcomer's usual 401: in development, say which issuer this server expects.
  const wrongIssuerHint =
    config.mode === 'dev' ? `: this server's issuer is ${config.issuer} (mint tokens with npm run token while it runs, or give both the same PORT)` : '';
  return (error, _req, res, next) => {
    if (!(error instanceof UnauthorizedError)) return next(error);
    const message = error.message === "Unexpected 'iss' value" ? `${error.message}${wrongIssuerHint}` : error.message || 'Unauthorized';
    res.status(error.status).set(error.headers).json({ errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });
  };
}
