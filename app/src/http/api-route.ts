import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import {
  type IRoute,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import type { z } from 'zod';
import type { Principal } from '../domain/principal';
import { HttpProblem, problemContentType, validationProblem } from './problem';
import { isPlainJson, jsonBody } from './json-body';
import { problemSchema } from './schemas';

// A route is declared once — method, path, schemas, handler — and that single declaration both
// mounts the validating Express handler and describes the operation in the OpenAPI document.

type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface ApiResult {
  status: number;
  body?: unknown;
  /** A body already serialized as JSON, sent as is (instead of `body`). */
  json?: string;
  headers?: Record<string, string>;
}

const jsonContentType = 'application/json; charset=utf-8';

export interface ApiRoute<
  P extends AnyObject = AnyObject,
  Q extends AnyObject = AnyObject,
  B extends z.ZodType = z.ZodType,
> {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Express path template, e.g. `/v1/collections/:collectionId`; also the metrics `route` label. */
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  /**
   * Reachable without authentication (the JWKS; the token refresh, whose body is the credential):
   * the authentication middleware lets it through, and the OpenAPI document says so (`security: []`).
   */
  public?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** Largest JSON body accepted, in bytes (see body-limits.ts); required with `body`. */
  maxBodyBytes?: number;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** Problem statuses this operation can answer with, besides 400/415/500 every route has. */
  problems?: number[];
  handle(
    input: { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B>; principal: Principal },
    req: Request,
  ): Promise<ApiResult>;
}

/** Keeps each route's generic parameters while collecting them in one list. */
export function defineRoute<P extends AnyObject, Q extends AnyObject, B extends z.ZodType>(
  route: ApiRoute<P, Q, B>,
): ApiRoute {
  return route as unknown as ApiRoute;
}

function parse<S extends z.ZodType>(
  schema: S | undefined,
  value: unknown,
  where: 'body' | 'query' | 'path',
) {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error, where);
  return result.data;
}

/** Whether the request carries a body, judged from its headers (RFC 9112 §6.3), without reading it. */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function tooLarge(res: Response, detail: string): HttpProblem {
  // The body is left unread: closing the connection after the answer spares reading it at all.
  res.setHeader('Connection', 'close');
  return new HttpProblem(413, 'payload-too-large', 'Request body too large', detail);
}

/**
 * Refuses an oversized body before it is read: from its Content-Length when it announces one, and
 * otherwise (chunked) body-parser stops buffering as soon as it passes the limit. An operation
 * without a body refuses any body rather than leaving it unread on the connection.
 */
function bodyReader(route: ApiRoute) {
  if (!route.body) {
    return (req: Request, res: Response, next: NextFunction) => {
      if (!hasBody(req)) return next();
      next(tooLarge(res, `${route.method.toUpperCase()} ${route.path} takes no body.`));
    };
  }
  const limit = route.maxBodyBytes;
  if (limit === undefined) {
    throw new Error(`route ${route.operationId} declares a body but no maxBodyBytes`);
  }
  const parse = jsonBody(limit);
  return (req: Request, res: Response, next: NextFunction) => {
    const announced = Number(req.headers['content-length']);
    if (announced > limit) {
      return next(tooLarge(res, `The body exceeds the limit of ${limit} bytes.`));
    }
    parse(req, res, next);
  };
}

/** A mounted operation: Express's route (what `req.route` is once matched) and its handlers. */
export interface MountedRoute {
  readonly route: IRoute;
  readonly handlers: readonly RequestHandler[];
}

export function mountRoutes(
  router: Pick<Router, 'route'>,
  routes: readonly ApiRoute[],
  /** Middleware run first once a route matched (the drills' fault gate); none by default. */
  before: (route: ApiRoute) => RequestHandler[] = () => [],
): Map<string, MountedRoute> {
  const mounted = new Map<string, MountedRoute>();
  for (const route of routes) {
    const handlers: RequestHandler[] = [
      ...before(route),
      bodyReader(route),
      async (req: Request, res: Response) => {
        if (route.body && !isPlainJson(req) && !req.is('application/json')) {
          throw new HttpProblem(
            415,
            'unsupported-media-type',
            'Unsupported media type',
            'Send the body as application/json.',
          );
        }
        // Set by the authentication middleware (security/authenticate.ts); without one, nothing runs.
        const principal = res.locals.principal as Principal | undefined;
        if (!principal && !route.public) {
          // Only without an authentication middleware in front (which answers 401 itself).
          res.setHeader('WWW-Authenticate', 'Bearer');
          throw new HttpProblem(401, 'unauthorized', 'Authentication required');
        }
        // req.query parses the query string on first read: only for routes that take one.
        const input = {
          principal: principal as Principal,
          params: route.params && parse(route.params, req.params, 'path'),
          query: route.query && parse(route.query, req.query, 'query'),
          body: route.body && parse(route.body, req.body, 'body'),
        };
        const result = await route.handle(input as never, req);
        if (result.headers)
          for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
        res.status(result.status);
        if (result.json !== undefined) {
          // What res.json would send for the parsed value: same type, length and bytes.
          res.setHeader('Content-Type', jsonContentType);
          res.setHeader('Content-Length', Buffer.byteLength(result.json));
          res.end(result.json);
        } else if (result.body === undefined) res.end();
        else res.json(result.body);
      },
    ];
    const expressRoute = router.route(route.path)[route.method](...handlers);
    mounted.set(route.operationId, { route: expressRoute, handlers });
  }
  return mounted;
}

const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

const problemDescriptions: Record<number, string> = {
  400: 'Malformed or invalid request.',
  401: 'No valid credential (WWW-Authenticate says how to send one).',
  403: 'The credential may not do this on the collection.',
  404: 'The collection or document does not exist.',
  409: 'The resource already exists.',
  413: 'The body is larger than the configured limit.',
  415: 'The body is not application/json.',
  429: 'Rate limited: see Retry-After and the RateLimit headers.',
  500: 'Unexpected server error (no details are exposed).',
  503: 'A dependency the operation needs is unavailable.',
};

export function buildOpenApiDocument(
  routes: readonly ApiRoute[],
  info: { title: string; version: string },
) {
  const registry = new OpenAPIRegistry();
  registry.register('Problem', problemSchema);
  // Every operation takes either credential (security/authenticate.ts).
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (rag_...) or a JWT access token.',
  });
  const apiKey = registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
  });
  const security = [{ [bearer.name]: [] }, { [apiKey.name]: [] }];
  for (const route of routes) {
    const problems = new Set([
      400,
      401,
      403,
      500,
      // Every /v1 operation is rate limited (http/middleware/rate-limit.ts).
      429,
      ...(route.body ? [413, 415] : []),
      ...(route.problems ?? []),
    ]);
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(route.responses)) {
      responses[status] = r.schema
        ? { description: r.description, content: { 'application/json': { schema: r.schema } } }
        : { description: r.description };
    }
    for (const status of [...problems].sort()) {
      responses[status] = {
        description: problemDescriptions[status] ?? 'Problem.',
        content: { [problemContentType]: { schema: problemSchema } },
      };
    }
    registry.registerPath({
      method: route.method,
      path: openApiPath(route.path),
      operationId: route.operationId,
      summary: route.summary,
      tags: route.tags,
      security: route.public ? [] : security,
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.body
          ? { body: { required: true, content: { 'application/json': { schema: route.body } } } }
          : {}),
      },
      responses: responses as never,
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Retrieval-augmented generation over tenant collections. Errors are RFC 9457 problem details.',
    },
    servers: [{ url: '/' }],
  });
}
