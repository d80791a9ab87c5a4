import type { Tracer } from '@opentelemetry/api';
import express, { type Express } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { DependencyStates } from '../health/dependency-states';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { buildOpenApiDocument, mountRoutes, type ApiRoute } from './api-route';
import type { FaultFile } from '../faults/fault-file';
import { faultGate } from './middleware/fault-injection';
import { methodNotAllowed } from './middleware/method-not-allowed';
import { observeResponse } from './middleware/observe-response';
import { requestContext } from './middleware/request-context';
import { HttpProblem, problemHandler } from './problem';
import { collectionRoutes } from './routes/collections-routes';
import { documentRoutes } from './routes/documents-routes';
import { queryRoutes } from './routes/query-routes';
import type { ApiDependencies } from './routes/api-dependencies';

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
}

export function apiRoutes(api: ApiDependencies): ApiRoute[] {
  return [...collectionRoutes(api), ...documentRoutes(api), ...queryRoutes(api)];
}

export function createApp(options: AppOptions): Express {
  const { api, health, metrics, logger, tracer } = options;
  const routes = apiRoutes(api);
  const openApi = buildOpenApiDocument(routes, {
    title: 'rag-platform API',
    version: options.version,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestContext(tracer));
  app.use(observeResponse(metrics, logger));
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });

  // Liveness must not touch dependencies: a database outage should not get pods restarted.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const report = health.current();
    const status = options.isShuttingDown() ? 'down' : report.status;
    res.status(status === 'down' ? 503 : 200).json({ ...report, status });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use(
    '/docs',
    swaggerUi.serve,
    swaggerUi.setup(openApi, { customSiteTitle: 'rag-platform API' }),
  );

  // Each operation reads its own body, with its own limit (api-route.ts, body-limits.ts).
  const router = express.Router({ strict: false });
  const faults = options.faults;
  mountRoutes(router, routes, (route) => (faults ? [faultGate(faults, route)] : []));
  app.use(router);
  app.use(methodNotAllowed(routes));

  app.use((req, _res, next) => {
    next(new HttpProblem(404, 'not-found', 'Not found', `no route for ${req.method} ${req.path}`));
  });
  app.use(problemHandler(logger));
  return app;
}
