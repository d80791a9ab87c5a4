import type { Request, RequestHandler, Response } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

// HSTS for a year with subdomains: the service is only ever published over TLS (the ALB or the
// ingress controller terminates it), and browsers ignore the header on plain http anyway.
const hsts = { maxAge: 365 * 24 * 3600, includeSubDomains: true };

/**
 * Headers for JSON responses: nothing a browser should render, run or frame. A JSON API needs no
 * script or style, so the policy denies everything; it still matters when a browser is tricked
 * into opening a response as a document.
 */
export const apiHeaderPolicy: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
  },
  strictTransportSecurity: hsts,
  crossOriginResourcePolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' },
  xFrameOptions: { action: 'deny' },
};

export function apiSecurityHeaders(): RequestHandler {
  return replayed(helmet(apiHeaderPolicy));
}

/**
 * Helmet's headers for these policies are constants (no nonces, nothing read from the request),
 * yet helmet runs a dozen middleware per request to set them: they are recorded once here and set
 * on each response in one pass, the same names and values in the same order.
 */
export function replayed(middleware: RequestHandler): RequestHandler {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => set.push([name, String(value)]),
    removeHeader: (name: string) => removed.push(name),
  };
  let completed = false;
  void middleware({} as Request, recorder as unknown as Response, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    completed = true;
  });
  if (!completed) throw new Error('security headers: the middleware did not complete at once');
  return (_req, res, next) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
    next();
  };
}

/**
 * Swagger UI is an HTML page: its scripts and stylesheet are served from /docs itself, but the
 * page carries inline `<style>` blocks and data: images, and helmet's default
 * `upgrade-insecure-requests` would send its assets to https on a plain-http local run. "Try it
 * out" calls the API on the same origin.
 */
export function docsSecurityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
    strictTransportSecurity: hsts,
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  });
}
