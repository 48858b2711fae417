// POST /webhooks/auth0-logs: Auth0 Log Streams (custom webhook) batches, authenticated by a shared secret.
import { timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { LogStreamService } from './log-stream-service';

/** Auth0 sends the configured authorization token verbatim; accept it bare or as a Bearer token. */
function authorized(header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const given = Buffer.from(header.replace(/^Bearer /i, ''));
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Auth0's payload formats: a JSON array, one JSON object, or JSON lines. */
function eventsOf(body: unknown): unknown[] | undefined {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') return [body];
  if (typeof body === 'string') {
    try {
      return body.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as unknown);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function logStreamWebhook(options: { secret: string; service: LogStreamService; logger: Logger }): Router {
  const router = express.Router();
  router.post(
    '/webhooks/auth0-logs',
    (req, res, next) => {
      if (authorized(req.headers.authorization, options.secret)) return next();
      res.status(401).set('www-authenticate', 'Bearer realm="auth0-logs"').json({ error: 'unauthorized' });
    },
    express.json({ limit: '5mb' }),
    express.text({ type: ['application/x-ndjson', 'text/plain'], limit: '5mb' }),
    async (req, res) => {
      const events = eventsOf(req.body);
      if (!events) {
        res.status(400).json({ error: 'expected a JSON array, a JSON object or JSON lines of Auth0 log events' });
        return;
      }
      const result = await options.service.applyBatch(events);
      options.logger.info({ module: 'auth0-logs', ...result }, 'log stream batch applied');
      res.json(result);
    },
  );
  return router;
}
