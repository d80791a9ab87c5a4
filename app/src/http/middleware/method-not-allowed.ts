import type { RequestHandler } from 'express';
import type { ApiRoute } from '../api-route';
import { HttpProblem } from '../problem';

/**
 * After the router: a request for a known path with a method it does not serve is 405 with the
 * methods it does serve in `Allow` (RFC 9110 §15.5.6), not a 404 that says the resource is absent.
 */
export function methodNotAllowed(routes: readonly ApiRoute[]): RequestHandler {
  const byPath = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const route of routes) {
    let entry = byPath.get(route.path);
    if (!entry) {
      // Parameters match one non-empty segment, as in Express; a trailing slash is tolerated
      // because the router is not strict.
      const source = route.path
        .split('/')
        .map((segment) => (segment.startsWith(':') ? '[^/]+' : escapeRegExp(segment)))
        .join('/');
      entry = { pattern: new RegExp(`^${source}/?$`), methods: new Set() };
      byPath.set(route.path, entry);
    }
    entry.methods.add(route.method.toUpperCase());
    if (route.method === 'get') entry.methods.add('HEAD');
  }
  return (req, res, next) => {
    for (const { pattern, methods } of byPath.values()) {
      if (!pattern.test(req.path) || methods.has(req.method)) continue;
      const allow = [...methods].sort().join(', ');
      res.setHeader('Allow', allow);
      return next(
        new HttpProblem(
          405,
          'method-not-allowed',
          'Method not allowed',
          `${req.method} is not supported here; use ${allow}.`,
        ),
      );
    }
    next();
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
