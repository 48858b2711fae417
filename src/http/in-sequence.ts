// Runs several Express handlers as one router layer: the router matches, trims and restores the path once, not once per handler.
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * What `app.use(path, a, b, c)` does, as one handler: each runs when the one before calls next();
 * an error passed to next() (or thrown, or rejected by an async handler) skips the rest and goes
 * to the app's error handlers.
 */
export function inSequence(...handlers: RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, done: NextFunction) => {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined && error !== null) return done(error);
      const handler = handlers[index];
      if (!handler) return done();
      index += 1;
      try {
        const result: unknown = handler(req, res, next);
        if (result instanceof Promise) result.catch((rejection: unknown) => next(rejection ?? new Error('a handler rejected without a reason')));
      } catch (thrown) {
        next(thrown ?? new Error('a handler threw without a reason'));
      }
    };
    next();
  };
}
