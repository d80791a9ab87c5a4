import { AsyncResource } from 'node:async_hooks';
import express, { type Request, type RequestHandler } from 'express';

// Nearly every API request carries `application/json` in UTF-8 with a Content-Length. body-parser
// reads those through content-type parsing, iconv decoding and raw-body's stream bookkeeping, a
// tenth of a cached query's CPU; this reads them directly with the same outcome and the same
// errors. Anything else (another charset, a `+json` type, Content-Encoding, chunked transfer) still
// goes through body-parser, so those keep its exact behaviour.

const plainJsonTypes = new Set([
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=utf-8',
]);
const digitsOnly = /^\d+$/;
const firstNonWhitespace = /[^ \t\n\r]/;

/** Whether the request's Content-Type is one the fast path reads (plain JSON in UTF-8). */
export function isPlainJson(req: Request): boolean {
  const type = req.headers['content-type'];
  return type !== undefined && plainJsonTypes.has(type.toLowerCase());
}

/** An error body-parser would raise for the same input (problem.ts maps them by `type`). */
function bodyError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type });
}

/** body-parser's strict JSON: an object or an array; an empty body is `{}`. */
function parseStrict(text: string): unknown {
  // iconv-lite, which body-parser decodes with, drops a UTF-8 byte order mark.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.length === 0) return {};
  const first = firstNonWhitespace.exec(body)?.[0];
  if (first !== '{' && first !== '[') {
    throw bodyError(400, 'entity.parse.failed', 'Unexpected token in JSON: not an object or array');
  }
  try {
    return JSON.parse(body);
  } catch (err) {
    throw bodyError(400, 'entity.parse.failed', (err as Error).message);
  }
}

/**
 * Reads a JSON body of at most `limit` bytes into `req.body`, like `express.json({ limit, strict:
 * true, type: ['application/json', 'application/*+json'] })`. The caller has already refused a
 * Content-Length over the limit.
 */
export function jsonBody(limit: number): RequestHandler {
  const general = express.json({
    limit,
    strict: true,
    type: ['application/json', 'application/*+json'],
  });
  return (req, res, next) => {
    const length = req.headers['content-length'];
    if (
      length === undefined ||
      !digitsOnly.test(length) ||
      Number(length) > limit ||
      req.headers['transfer-encoding'] !== undefined ||
      req.headers['content-encoding'] !== undefined ||
      !isPlainJson(req)
    ) {
      general(req, res, next);
      return;
    }
    // Read already (by a body parser in front): left as it is, as body-parser leaves it.
    if (req.complete && !req.readable) {
      next();
      return;
    }
    const expected = Number(length);
    // By the time an operation reads its body, authentication and the rate limiter have awaited, so
    // a small body has usually arrived whole (with its headers, even): take it as one buffer.
    if (req.complete && req.readableLength === expected && !req.readableFlowing) {
      const raw: Buffer | null = expected === 0 ? null : (req.read() as Buffer | null);
      if (expected === 0 || raw?.length === expected) {
        try {
          req.body = parseStrict(raw ? raw.toString('utf8') : '');
        } catch (err) {
          next(err);
          return;
        }
        next();
        return;
      }
      if (raw) req.unshift(raw);
    }
    // Gone before its body was read ('close' has been emitted already; nothing more will come).
    if (req.destroyed) {
      next(bodyError(400, 'request.aborted', 'request aborted'));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    // The request's events run in the socket's async context, not this request's: the rest of the
    // chain must continue in the request's (its id, stage timings and trace span live there), as
    // raw-body does for body-parser.
    const proceed = AsyncResource.bind(next);
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onAborted);
      proceed(err);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (received !== expected) {
        settle(bodyError(400, 'request.size.invalid', 'request size did not match content length'));
        return;
      }
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
      try {
        req.body = parseStrict(raw.toString('utf8'));
      } catch (err) {
        settle(err as Error);
        return;
      }
      settle();
    };
    // The client went away before sending the whole body: 'close' without 'end' (an aborted
    // request emits 'error' only to listeners, and always 'close').
    const onAborted = () => settle(bodyError(400, 'request.aborted', 'request aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onAborted);
  };
}
