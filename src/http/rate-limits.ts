// Rate limits on /graphql: a valid token counts against its subject, a failed token check against the address.
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { UnauthorizedError } from 'express-oauth2-jwt-bearer';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Config } from '../config';
import { fixedWindowLimiter } from './fixed-window-limiter';

const tooManyRequests = (_req: Request, res: Response) => {
  res.status(429).json({ errors: [{ message: 'Too many requests; slow down and retry after the time in Retry-After.', extensions: { code: 'RATE_LIMITED' } }] });
};

/**
 * After the token check: one counter per token subject. Machine clients (the Post Login Action's
 * M2M token) get a budget sized for a sign-up storm; Auth0 sends every first login of a tenant
 * from a few NAT addresses, so an address alone must never throttle valid tokens.
 */
export function limitPerSubject(config: Config['rateLimit']): RequestHandler {
  return fixedWindowLimiter({
    windowMs: config.windowMs,
    limit: (req) => (isMachineToken(req) ? config.perMachine : config.perUser),
    key: (req) => `sub:${subjectOf(req)}`,
    refuse: tooManyRequests,
  });
}

/**
 * An error handler for failed token checks only: counts them per address and, once an address is
 * over its budget, answers 429 instead of 401. Requests with a valid token never touch this counter,
 * so a flood of bad tokens is cut off without throttling the valid ones sent from the same address.
 */
export function limitFailedTokensPerIp(config: Config['rateLimit']): ErrorRequestHandler {
  const limiter = fixedWindowLimiter({
    windowMs: config.windowMs,
    limit: () => config.perIp,
    // An IPv6 client is counted by its /56, as express-rate-limit does: one host holds many addresses.
    key: (req) => `ip:${ipKeyGenerator(req.ip ?? '')}`,
    refuse: tooManyRequests,
  });
  return (error, req, res, next) => {
    if (!(error instanceof UnauthorizedError)) return next(error);
    void limiter(req, res, () => next(error));
  };
}

function claims(req: Request): Record<string, unknown> {
  return (req.auth?.payload ?? {}) as Record<string, unknown>;
}

// Read defensively: a claim of an unexpected type must never turn into a 500 here.
function subjectOf(req: Request): string {
  const { sub } = claims(req);
  return typeof sub === 'string' ? sub : '';
}

function isMachineToken(req: Request): boolean {
  const { gty } = claims(req);
  return gty === 'client-credentials' || (Array.isArray(gty) && gty.includes('client-credentials'));
}
