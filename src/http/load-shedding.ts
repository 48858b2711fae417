// Sheds load the process cannot serve in time: a bounded queue in front of /graphql, 503 + Retry-After at once when full.
import type { RequestHandler, Response } from 'express';

export interface LoadSheddingOptions {
  /** Requests served at once; the rest wait in the queue. */
  maxInFlight: number;
  /** Requests that may wait; one more is refused at once. */
  maxQueue: number;
  /**
   * A request expected to wait longer is refused at once (expected wait: its place in the queue
   * times the interval between completions measured while saturated); one that waited this long
   * anyway is refused rather than served too late for its caller.
   */
  maxWaitMs: number;
  retryAfterSeconds: string;
}

interface Waiting {
  res: Response;
  start: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Without this, a burst larger than the pool waits for a connection until the pool timeout (3 s)
 * and then fails anyway, close to the Post Login Action's own 5 s timeout. Refusing at once lets
 * the caller know straight away; Auth0 provisions the user at their next login.
 */
export function shedLoad(options: LoadSheddingOptions): RequestHandler {
  let inFlight = 0;
  const queue: Waiting[] = [];
  // Milliseconds between two completions while requests were queued (0 until measured).
  let serviceIntervalMs = 0;
  let lastCompletion = 0;

  const refuse = (res: Response, message: string) => {
    res
      .status(503)
      .set('retry-after', options.retryAfterSeconds)
      .json({ errors: [{ message, extensions: { code: 'UNAVAILABLE' } }] });
  };

  const release = () => {
    inFlight -= 1;
    const now = performance.now();
    if (queue.length > 0 && lastCompletion > 0) serviceIntervalMs = serviceIntervalMs === 0 ? now - lastCompletion : serviceIntervalMs * 0.9 + (now - lastCompletion) * 0.1;
    lastCompletion = now;
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const next = queue.shift()!;
      clearTimeout(next.timer);
      if (next.res.destroyed) continue;
      next.start();
    }
  };

  return (_req, res, next) => {
    const start = () => {
      inFlight += 1;
      res.once('close', release);
      next();
    };
    if (inFlight < options.maxInFlight) return start();
    if (queue.length >= options.maxQueue || (queue.length + 1) * serviceIntervalMs > options.maxWaitMs) {
      return refuse(res, 'The server is at capacity; retry after the time in Retry-After.');
    }
    const waiting: Waiting = {
      res,
      start,
      timer: setTimeout(() => {
        queue.splice(queue.indexOf(waiting), 1);
        refuse(res, 'The server could not serve this request in time; retry after the time in Retry-After.');
      }, options.maxWaitMs),
    };
    queue.push(waiting);
  };
}
