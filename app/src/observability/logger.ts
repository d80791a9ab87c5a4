import winston from 'winston';
import { trace } from '@opentelemetry/api';
import { currentRequestContext } from './request-context';

export type Logger = winston.Logger;

const secretKey = /pass(word)?|secret|token|api[-_]?key|authorization|cookie|credential/i;
const urlWithCredentials = /\b([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi;

/** Replaces secret-looking fields and URL passwords anywhere in a log entry. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(urlWithCredentials, '$1$2:[redacted]@');
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      secretKey.test(k) ? '[redacted]' : redact(v, depth + 1),
    ]),
  );
}

const correlate = winston.format((info) => {
  const ctx = currentRequestContext();
  if (ctx) {
    info.requestId ??= ctx.requestId;
    info.traceId ??= ctx.traceId;
  }
  const span = trace.getActiveSpan();
  if (span && !info.traceId) info.traceId = span.spanContext().traceId;
  return info;
});

const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    info[key] = secretKey.test(key) ? '[redacted]' : redact(info[key]);
  }
  return info;
});

/**
 * JSON lines on stdout (or `destination`): one object per event, with request and trace ids when
 * inside a request.
 */
export function createLogger(options: {
  level: string;
  service: string;
  destination?: NodeJS.WritableStream;
}): Logger {
  return winston.createLogger({
    level: options.level === 'silent' ? 'error' : options.level,
    silent: options.level === 'silent',
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      winston.format.timestamp(),
      correlate(),
      redactSecrets(),
      winston.format.json(),
    ),
    transports: [
      options.destination
        ? new winston.transports.Stream({ stream: options.destination })
        : new winston.transports.Console(),
    ],
  });
}
