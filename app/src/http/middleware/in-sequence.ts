import type { RequestHandler } from 'express';

/**
 * Middleware that every request runs, as one router layer: Express's router matches and dispatches
 * each layer on every request, which costs a cached answer more than these middleware themselves.
 * Errors, thrown or passed to `next`, reach the app's error handlers as they would from the router.
 */
export function inSequence(handlers: readonly RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let index = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null) {
        next(err);
        return;
      }
      const handler = handlers[index++];
      if (!handler) {
        next();
        return;
      }
      try {
        const returned: unknown = handler(req, res, step);
        // Express 5 also passes on the rejection of an async middleware.
        if (returned instanceof Promise) {
          returned.catch((rejected: unknown) => next(rejected ?? new Error('Rejected promise')));
        }
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}
