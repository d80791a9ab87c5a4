import type { RequestHandler } from 'express';
import helmet from 'helmet';

// HSTS for a year with subdomains: the service is only ever published over TLS (the ALB or the
// ingress controller terminates it), and browsers ignore the header on plain http anyway.
const hsts = { maxAge: 365 * 24 * 3600, includeSubDomains: true };

/**
 * Headers for JSON responses: nothing a browser should render, run or frame. A JSON API needs no
 * script or style, so the policy denies everything; it still matters when a browser is tricked
 * into opening a response as a document.
 */
export function apiSecurityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
    },
    strictTransportSecurity: hsts,
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  });
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
