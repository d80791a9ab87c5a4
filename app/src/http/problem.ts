import type { ErrorRequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import {
  ConflictError,
  DependencyUnavailableError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
} from '../domain/errors';
import type { Logger } from '../observability/logger';

// RFC 9457 problem details. Every error response of the API is one of these, with a stable `type`
// per kind of problem so clients can branch on it, and never a stack trace.

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

export const problemContentType = 'application/problem+json';

const typePrefix = 'urn:rag-platform:problem:';

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }

  body(instance?: string): ProblemBody {
    return {
      type: typePrefix + this.slug,
      title: this.title,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export function validationProblem(error: ZodError, where: 'body' | 'query' | 'path'): HttpProblem {
  const errors = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return new HttpProblem(
    400,
    'validation-error',
    'Request validation failed',
    errors.map((e) => `${e.path}: ${e.message}`).join('; '),
    { errors },
  );
}

export function sendProblem(res: Response, problem: HttpProblem): void {
  res
    .status(problem.status)
    .type(problemContentType)
    .send(JSON.stringify(problem.body(res.req.originalUrl)));
}

interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  limit?: number;
}

/** Maps what body-parser and Express raise for bad requests onto problems. */
function fromFrameworkError(err: BodyParserError): HttpProblem | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new HttpProblem(
        400,
        'malformed-json',
        'Malformed JSON body',
        'The body is not valid JSON.',
      );
    case 'entity.too.large':
      return new HttpProblem(
        413,
        'payload-too-large',
        'Request body too large',
        `The body exceeds the limit of ${err.limit} bytes.`,
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem(415, 'unsupported-encoding', 'Unsupported body encoding');
    case 'request.aborted':
      return new HttpProblem(400, 'request-aborted', 'Request aborted by the client');
  }
  const status = err.status ?? err.statusCode;
  if (status && status >= 400 && status < 500) {
    return new HttpProblem(status, 'bad-request', 'Bad request');
  }
  return undefined;
}

/** Seconds a client should wait before retrying when a dependency is unavailable. */
export const dependencyRetryAfterSeconds = 5;

const dependencyDescriptions: Record<DependencyUnavailableError['dependency'], string> = {
  postgres_primary: 'The database',
  postgres_replica: 'The database',
  redis: 'The cache',
  vector_store: 'The vector store',
  embedder: 'The embedding model server',
  chat: 'The chat model server',
};

/**
 * The one mapping from the domain's failure kinds to problems. A dependency that is down is a
 * retryable 503 naming the kind of dependency (never its address or the driver's message).
 */
export function fromDomainError(err: DomainError): HttpProblem | undefined {
  if (err instanceof NotFoundError) {
    return new HttpProblem(404, 'not-found', 'Resource not found', err.message);
  }
  if (err instanceof ForbiddenError) {
    return new HttpProblem(403, 'forbidden', 'Forbidden', err.message);
  }
  if (err instanceof ConflictError) {
    return new HttpProblem(409, 'conflict', 'Conflict with the current state', err.message);
  }
  if (err instanceof InvalidInputError) {
    return new HttpProblem(400, 'invalid-input', 'Invalid input', err.message);
  }
  if (err instanceof DependencyUnavailableError) {
    return new HttpProblem(
      503,
      'dependency-unavailable',
      'Dependency unavailable',
      `${dependencyDescriptions[err.dependency]} the operation needs is unavailable; retry later.`,
      { dependency: err.dependency },
    );
  }
  return undefined;
}

/** Last middleware: turns anything thrown into a problem; unknown errors become an opaque 500. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    let problem: HttpProblem | undefined;
    if (err instanceof HttpProblem) problem = err;
    else if (err instanceof ZodError) problem = validationProblem(err, 'body');
    else if (err instanceof DomainError) {
      problem = fromDomainError(err);
      if (err instanceof DependencyUnavailableError) {
        logger.warn('dependency unavailable', { err, method: req.method, path: req.path });
        res.setHeader('Retry-After', String(dependencyRetryAfterSeconds));
      }
    } else if (err && typeof err === 'object') problem = fromFrameworkError(err as BodyParserError);
    if (!problem) {
      logger.error('unhandled error', { err, method: req.method, path: req.path });
      problem = new HttpProblem(500, 'internal', 'Internal server error');
    }
    sendProblem(res, problem);
  };
}
