import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * Cross-origin access for the browser origins configuration names (CORS_ALLOWED_ORIGINS, validated
 * in config.ts). An origin not on the list gets no CORS headers, so the browser withholds the
 * response; non-browser clients are unaffected, which is why this is not access control.
 */
export function corsAllowlist(origins: readonly string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  const handler = cors({
    origin: (origin, callback) => callback(null, any || (!!origin && allowed.has(origin))),
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization', 'X-API-Key', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'Location'],
    maxAge: 600,
  });
  // Without an Origin header the origin callback above says no and cors adds nothing; answering
  // that here spares every same-origin and server-to-server request cors's per-request setup.
  if (any) return handler;
  return (req, res, next) => (req.headers.origin ? handler(req, res, next) : next());
}
