import type { Request, RequestHandler } from 'express';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { currentRequestContext } from '../../observability/request-context';

/** The route template, never the raw path: raw paths would give every document id its own series. */
export function routeLabel(req: Request): string {
  return req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched';
}

/**
 * RED metrics by route, one access-log line per response, and a `Server-Timing` header listing the
 * pipeline stages the request went through (set just before the headers leave).
 */
export function observeResponse(
  metrics: Metrics,
  logger: Logger,
  serverTiming = true,
): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const ctx = currentRequestContext();
    const writeHead = res.writeHead;
    // Stage timings reveal whether the answer was cached, i.e. whether someone asked it before.
    if (serverTiming)
      res.writeHead = function (this: typeof res, ...args: unknown[]) {
        if (ctx && !res.headersSent) {
          const total = Number(process.hrtime.bigint() - started) / 1e6;
          const entries = [...ctx.timings].map(([stage, ms]) => `${stage};dur=${ms.toFixed(2)}`);
          entries.push(`total;dur=${total.toFixed(2)}`);
          res.setHeader('Server-Timing', entries.join(', '));
        }
        return (writeHead as (...a: unknown[]) => typeof res).apply(this, args);
      } as typeof res.writeHead;

    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const labels = {
        method: req.method,
        route: routeLabel(req),
        status_code: String(res.statusCode),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestDuration.observe(labels, seconds);
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'http';
      // winston formats (timestamp, correlation, redaction, JSON) every entry before its transport
      // drops a level it does not write: at the default `info`, every successful request's line.
      if (logger.silent || !logger.isLevelEnabled(level)) return;
      logger.log(level, 'request', {
        ...labels,
        path: req.path,
        durationMs: Math.round(seconds * 1e5) / 100,
        requestId: ctx?.requestId,
        traceId: ctx?.traceId,
      });
    });
    next();
  };
}
