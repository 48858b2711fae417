// One lean log line per request, under a request id that is also sent back in x-request-id.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

declare module 'http' {
  interface IncomingMessage {
    /** The request id: the caller's x-request-id when sane, else a fresh UUID. */
    id: string;
    /** A child logger that carries the request id. */
    log: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const NOT_LOGGED = new Set(['/healthz', '/readyz']);
const JWT_LIKE = /[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g;

/**
 * The line holds the URL as `loggableUrl` gives it, so nothing a client puts in a URL (a token,
 * say) reaches the logs, and no headers, so there are no credentials to redact on the hot path.
 */
export function logRequests(logger: Logger): RequestHandler {
  // The line's fields are ours and hold no credential, so it skips the root logger's redaction,
  // which costs about 14 µs a line (a walk of every redacted path) against 3 µs without.
  const requestLine = logger.child({}, { redact: [] });
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', id);
    req.id = id;
    req.log = logger.child({ reqId: id });
    if (NOT_LOGGED.has(req.originalUrl)) return next();
    const url = loggableUrl(req.originalUrl);
    const started = performance.now();
    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : 499;
      // A 503 is an expected outcome, answered with Retry-After (Auth0 rate limiting, failing or
      // slow; the database away; a full queue): a warning, its cause logged where it happened.
      const level = status >= 500 && status !== 503 ? 'error' : status >= 400 ? 'warn' : 'info';
      requestLine[level]({ req: { id, method: req.method, url }, res: { statusCode: status }, responseTime: Math.round(performance.now() - started) }, res.writableFinished ? 'request completed' : 'request aborted');
    });
    next();
  };
}

/**
 * The URL as a log may hold it: the path, with anything shaped like a JWT replaced, and never the
 * query (`?access_token=...`, a GET's variables), only the mark that there was one.
 */
export function loggableUrl(url: string): string {
  const queryAt = url.search(/[?#]/);
  const path = (queryAt === -1 ? url : url.slice(0, queryAt)).replace(JWT_LIKE, '[redacted]');
  return queryAt === -1 ? path : `${path}?[redacted]`;
}
