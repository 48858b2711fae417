// Counts requests per key in fixed windows, in memory: one Map lookup per request, the IETF draft-8 RateLimit headers, 429 past the limit.
import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { FixedWindows, type FixedWindow } from '../modules/common/fixed-windows';

export interface FixedWindowOptions {
  windowMs: number;
  /** The budget of the request's key for one window. */
  limit: (req: Request) => number;
  key: (req: Request) => string;
  /** Answers a request over the limit (the headers are set already). */
  refuse: (req: Request, res: Response) => void;
  now?: () => number;
}

/**
 * The headers and windows are those express-rate-limit sends with `standardHeaders: 'draft-8'`
 * (the same policy names, e.g. `"60000-in-1min"`), without its per-request costs on the hot path
 * (a SHA-256 of the key for every response, four awaits, option validation, debug calls): the
 * per-subject limit runs on every authenticated request.
 */
export function fixedWindowLimiter({ windowMs, limit, key, refuse, now: clock = Date.now }: FixedWindowOptions): RequestHandler {
  const windows = new FixedWindows(windowMs, clock);
  // The draft-8 `pk` parameter, a short hash that tells keys apart without showing them: computed
  // once per window (and gone with it), not for every response.
  const partitionKeys = new WeakMap<FixedWindow, string>();
  const windowSeconds = Math.ceil(windowMs / 1000);
  const duration = durationName(windowMs);

  return (req, res, next) => {
    const name = key(req);
    const window = windows.increment(name);
    let partitionKey = partitionKeys.get(window);
    if (partitionKey === undefined) partitionKeys.set(window, (partitionKey = partitionKeyOf(name)));
    const budget = limit(req);
    const policy = `"${budget}-in-${duration}"`;
    const resetSeconds = Math.max(0, Math.ceil((window.resetsAt - clock()) / 1000));
    res.setHeader('RateLimit-Policy', `${policy}; q=${budget}; w=${windowSeconds}; pk=:${partitionKey}:`);
    res.setHeader('RateLimit', `${policy}; r=${Math.max(budget - window.count, 0)}; t=${resetSeconds}`);
    if (window.count <= budget) return next();
    res.setHeader('Retry-After', String(resetSeconds));
    refuse(req, res);
  };
}

function partitionKeyOf(key: string): string {
  return Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
}

function durationName(windowMs: number): string {
  const seconds = windowMs / 1000;
  const minutes = seconds / 60;
  const hours = minutes / 60;
  const days = hours / 24;
  if (seconds < 60) return `${seconds}sec`;
  if (minutes < 60) return `${minutes}min`;
  if (hours < 24) return `${hours}hr${hours > 1 ? 's' : ''}`;
  return `${days}day${days > 1 ? 's' : ''}`;
}
