// Verifies the bearer token of every request it guards: RS256, issuer, audience, keys from the JWKS (see verify-token.ts).
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { InvalidRequestError, UnauthorizedError } from 'express-oauth2-jwt-bearer';
import type { Config } from '../config';
import { createTokenVerifier } from './verify-token';
import { tokenClaimsParser, viewerFromClaims, type Viewer } from './viewer';

const BEARER = /^Bearer (.+)$/i;

declare global {
  namespace Express {
    interface Request {
      /** The caller, set by `requireValidClaims` once the token is verified and its claims checked. */
      viewer?: Viewer;
    }
  }
}

/**
 * The token comes from one `Authorization` header and nowhere else (RFC 6750 also allows the URL
 * query and a form body): a token in a URL ends up in logs,
 * proxies and browser history. Two `Authorization` headers are refused too: Node keeps only the
 * first in `req.headers`, so which one was meant would be a guess. Both answer 400 invalid_request.
 */
export const refuseTokensOutsideTheHeader: RequestHandler = (req, _res, next) => {
  if ((req.headersDistinct.authorization?.length ?? 0) > 1) {
    return next(new InvalidRequestError('Send exactly one Authorization header.'));
  }
  if (Object.keys(req.query ?? {}).some((name) => name.toLowerCase() === 'access_token')) {
    return next(new InvalidRequestError('Send the access token in the Authorization header, never in the URL.'));
  }
  next();
};

export function requireToken(config: Config['auth']): RequestHandler {
  const verify = createTokenVerifier(config);
  // A request with a bad token is refused, never treated as anonymous.
  return (req, _res, next) => {
    let token: string;
    try {
      token = bearerToken(req);
    } catch (error) {
      return next(error);
    }
    verify(token).then(
      (verified) => {
        req.auth = verified;
        next();
      },
      (error: unknown) => next(error),
    );
  };
}

/** The token of the Authorization header (refuseTokensOutsideTheHeader has refused any other place). */
function bearerToken(req: Request): string {
  const header = req.headers.authorization;
  if (header === undefined) throw new UnauthorizedError();
  const match = header.split(' ').length === 2 ? BEARER.exec(header) : null;
  if (!match) throw new InvalidRequestError('', false);
  return match[1]!;
}

/**
 * After the token is verified: its claims must have the types this API reads (401 otherwise), and
 * the caller they describe becomes `req.viewer`. Kept apart from verification, which may be cached.
 */
export function requireValidClaims(config: Config['auth']): RequestHandler {
  const parseTokenClaims = tokenClaimsParser(config.claimsNamespace);
  return (req, _res, next) => {
    try {
      req.viewer = viewerFromClaims(parseTokenClaims(req.auth?.payload));
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** The caller of a request that went through `requireValidClaims`. */
export function viewerOf(req: Express.Request): Viewer {
  if (!req.viewer) throw new Error('requireValidClaims must run before the viewer is read');
  return req.viewer;
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
