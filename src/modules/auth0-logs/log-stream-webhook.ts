// POST /webhooks/auth0-logs: Auth0 Log Streams (custom webhook) batches, authenticated by a shared secret.
import { timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { parseLogStreamBody } from './log-stream-body';
import type { LogStreamService } from './log-stream-service';

/** Auth0 sends the configured authorization token verbatim; accept it bare or as a Bearer token. */
function authorized(header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const given = Buffer.from(header.replace(/^Bearer /i, ''));
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The most events one request may carry. Auth0 does not document its batch size; it streams the
 * same batches to Datadog, whose intake takes at most 1,000 entries per request
 * (docs.datadoghq.com/api/latest/logs/send-logs), so a real batch stays within it. A refused batch is
 * resent up to 3 times, then again until the stream is paused after 7 days: the bound must never
 * catch a real batch, only a sender that is not Auth0's stream (a 5 MB body is about 22,000 events,
 * each its own transaction).
 */
export const MAX_EVENTS_PER_REQUEST = 1000;
const MAX_BODY = '5mb';

export function logStreamWebhook(options: { secret: string; service: LogStreamService; logger: Logger }): Router {
  const router = express.Router();
  router.post(
    '/webhooks/auth0-logs',
    (req, res, next) => {
      if (authorized(req.headers.authorization, options.secret)) return next();
      res.status(401).set('www-authenticate', 'Bearer realm="auth0-logs"').json({ error: 'unauthorized' });
    },
    // The raw bytes whatever the Content-Type: the body, not the header, says which format it is.
    express.raw({ type: () => true, limit: MAX_BODY }),
    async (req, res) => {
      const body = parseLogStreamBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      if (!body) {
        res.status(400).json({ error: 'expected a JSON array, a JSON object or JSON lines of Auth0 log events' });
        return;
      }
      const count = body.events.length + body.unreadable;
      if (count > MAX_EVENTS_PER_REQUEST) {
        res.status(413).json({ error: `at most ${MAX_EVENTS_PER_REQUEST} events per request; this one has ${count}` });
        return;
      }
      const result = await options.service.applyBatch(body.events);
      result.invalid += body.unreadable;
      options.logger.info({ module: 'auth0-logs', ...result }, 'log stream batch applied');
      res.json(result);
    },
  );
  return router;
}
