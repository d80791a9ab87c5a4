import type { Tracer } from '@opentelemetry/api';
import express, { type Express } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { DependencyStates } from '../health/dependency-states';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { buildOpenApiDocument, mountRoutes, type ApiRoute } from './api-route';
import type { FaultFile } from '../faults/fault-file';
import { faultGate } from './middleware/fault-injection';
import { corsAllowlist } from './middleware/cors-allowlist';
import { inSequence } from './middleware/in-sequence';
import { methodNotAllowed } from './middleware/method-not-allowed';
import { observeResponse } from './middleware/observe-response';
import { rateLimit, type RateLimitOptions } from './middleware/rate-limit';
import { requestContext } from './middleware/request-context';
import { apiSecurityHeaders, docsSecurityHeaders } from './middleware/security-headers';
import { HttpProblem, problemHandler } from './problem';
import { rejectUnauthenticated } from '../security/authenticate';
import { accessRoutes } from './routes/access-routes';
import { collectionRoutes } from './routes/collections-routes';
import { documentRoutes } from './routes/documents-routes';
import { queryRoutes } from './routes/query-routes';
import type { ApiDependencies } from './routes/api-dependencies';
import { authRoutes } from './routes/auth-routes';

export interface AppOptions {
  readonly api: ApiDependencies;
  readonly health: Pick<DependencyStates, 'current'>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly version: string;
  /** True once shutdown began: readiness fails so load balancers stop sending traffic. */
  readonly isShuttingDown: () => boolean;
  /** FAULT_INJECTION_FILE: the fire drills' faults on the API routes (never in production). */
  readonly faults?: FaultFile;
  /**
   * Authentication of every /v1 request (security/authenticate.ts): sets res.locals.principal.
   * Without it every /v1 operation answers 401 (deny by default).
   */
  readonly authenticate?: express.RequestHandler;
  /** Browser origins allowed cross-origin access (already validated). */
  readonly corsAllowedOrigins?: readonly string[];
  /** Whether answers carry `cached` and `Server-Timing` (what the cache holds is others' questions). */
  readonly exposeQueryDiagnostics?: boolean;
  /**
   * True when an internal listener (createInternalApp) serves /metrics and the readiness detail:
   * this app then serves neither, and its /readyz answers with the status alone.
   */
  readonly internalEndpointsElsewhere?: boolean;
  /** Rate limiting of /v1 (composition/rate-limiting.ts); none when RATE_LIMIT_ENABLED is off. */
  readonly rateLimit?: RateLimitOptions;
  /**
   * HTTP_TRUST_PROXY: which peers are proxies whose X-Forwarded-For names the client (req.ip).
   * Default false: the socket's peer is the client, and the header is ignored.
   */
  readonly trustProxy?: false | number | readonly string[];
}

export interface InternalAppOptions {
  readonly health: Pick<DependencyStates, 'current'>;
  readonly metrics: Metrics;
  readonly isShuttingDown: () => boolean;
}

export function apiRoutes(api: ApiDependencies, exposeQueryDiagnostics = true): ApiRoute[] {
  return [
    ...(api.tokens ? authRoutes(api.tokens) : []),
    ...collectionRoutes(api),
    ...documentRoutes(api),
    ...queryRoutes(api, exposeQueryDiagnostics),
    ...accessRoutes(api),
  ];
}

function readiness(options: InternalAppOptions, detail: boolean): express.RequestHandler {
  return (_req, res) => {
    const report = options.health.current();
    const status = options.isShuttingDown() ? 'down' : report.status;
    // The detail names dependencies, replica hosts and error text: operators', not callers'.
    res.status(status === 'down' ? 503 : 200).json(detail ? { ...report, status } : { status });
  };
}

function metricsEndpoint(metrics: Metrics): express.RequestHandler {
  return async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

/** What only the cluster reaches (the Prometheus scraper, operators via port-forward). */
export function createInternalApp(options: InternalAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', readiness(options, true));
  app.get('/metrics', metricsEndpoint(options.metrics));
  app.use((_req, res) => {
    res.status(404).type('application/problem+json').json({ status: 404, title: 'Not found' });
  });
  return app;
}

/** Only for paths under /v1, matched as Express matches a `/v1` mount (case-insensitively). */
function underV1(handler: express.RequestHandler): express.RequestHandler {
  const v1 = /^\/v1(?:\/|$)/i;
  return (req, res, next) => (v1.test(req.path) ? handler(req, res, next) : next());
}

export function createApp(options: AppOptions): Express {
  const { api, health, metrics, logger, tracer } = options;
  const routes = apiRoutes(api, options.exposeQueryDiagnostics ?? true);
  const internalElsewhere = options.internalEndpointsElsewhere ?? false;
  const openApi = buildOpenApiDocument(routes, {
    title: 'rag-platform API',
    version: options.version,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // Only entries written by trusted proxies count (read from the right), so a client cannot pick
  // its own address: it keys the per-address rate limit and the allow and deny lists.
  const trust = options.trustProxy ?? false;
  app.set('trust proxy', typeof trust === 'object' ? [...trust] : trust);
  // Order matters, and later work slots in where marked: request id (every response, logs and
  // problems carry it) → security headers and CORS (also on rejections) → authentication → rate
  // limiting (per principal, so after authentication) → validation and routes.
  const docsHeaders = docsSecurityHeaders();
  const apiHeaders = apiSecurityHeaders();
  const front: express.RequestHandler[] = [
    requestContext(tracer),
    observeResponse(metrics, logger, options.exposeQueryDiagnostics ?? true),
    (req, res, next) =>
      (req.path === '/docs' || req.path.startsWith('/docs/') ? docsHeaders : apiHeaders)(
        req,
        res,
        next,
      ),
    corsAllowlist(options.corsAllowedOrigins ?? []),
  ];
  const authenticate = options.authenticate;
  // A refresh token is its own credential: the caller's access token has usually expired by then.
  const publicPaths = new Set(routes.filter((r) => r.public).map((r) => r.path.toLowerCase()));
  if (authenticate) {
    front.push(
      underV1((req, res, next) =>
        publicPaths.has(req.path.toLowerCase()) ? next() : authenticate(req, res, next),
      ),
    );
  }
  // After authentication (per principal), but before a failed authentication is answered, so
  // credential guessing spends the client address's quota like any other request.
  if (options.rateLimit) front.push(rateLimit({ ...options.rateLimit, metrics }));
  if (authenticate) front.push(underV1(rejectUnauthenticated()));

  // The busiest operation, asked by its exact path, runs the same middleware and handlers as one
  // chain instead of through the router's matching and dispatch, which cost a cached answer more
  // than most of its own work. Any other spelling Express would accept (another case, a trailing
  // slash) goes through the router to the same handlers.
  const lanes = new Map<string, express.RequestHandler>();
  app.use((req, res, next) => {
    const lane = lanes.get(`${req.method} ${req.path}`);
    if (lane) lane(req, res, next);
    else next();
  });
  app.use(inSequence(front));

  // Each operation reads its own body, with its own limit (api-route.ts, body-limits.ts). Mounted
  // on the app itself (non-strict routing, as a Router's default): a nested Router would add its
  // own dispatch to every API request. Express tries routes in order and no two paths overlap, so
  // the API goes before the operators' endpoints.
  const faults = options.faults;
  const mounted = mountRoutes(app, routes, (route) => (faults ? [faultGate(faults, route)] : []));
  const query = routes.find((r) => r.operationId === 'query');
  const queryMounted = query && mounted.get(query.operationId);
  if (query && queryMounted) {
    lanes.set(
      `${query.method.toUpperCase()} ${query.path}`,
      inSequence([
        ...front,
        // What the router sets once a route matched (metrics and spans label by it).
        (req, _res, next) => {
          req.route = queryMounted.route;
          next();
        },
        ...queryMounted.handlers,
      ]),
    );
  }

  // Liveness must not touch dependencies: a database outage should not get pods restarted.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', readiness({ ...options, health }, !internalElsewhere));
  if (!internalElsewhere) app.get('/metrics', metricsEndpoint(metrics));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use(
    '/docs',
    swaggerUi.serve,
    swaggerUi.setup(openApi, { customSiteTitle: 'rag-platform API' }),
  );

  app.use(methodNotAllowed(routes));

  app.use((req, _res, next) => {
    next(new HttpProblem(404, 'not-found', 'Not found', `no route for ${req.method} ${req.path}`));
  });
  app.use(problemHandler(logger));
  return app;
}
