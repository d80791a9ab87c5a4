import path from 'node:path';
import type { Config } from './config';
import { describeConfig, exposesQueryDiagnostics } from './config';
import { Closers } from './composition/closers';
import {
  createCache,
  createEmbedder,
  createLexicalSearch,
  createVectorStore,
} from './composition/adapters';
import { startAccessChanges } from './composition/access-changes';
import { startCollectionLookup } from './composition/collection-lookup';
import { startDataLayer } from './composition/data-layer';
import { createSecurity } from './composition/security';
import { drainHttp, listen, serverLimits } from './composition/http-server';
import { startIngestionWorkers } from './composition/ingestion';
import { createRateLimiting } from './composition/rate-limiting';
import { createRetrieval } from './composition/retrieval';
import { createUseCases } from './composition/use-cases';
import { startJwt } from './composition/jwt';
import { prepareVectorIndex } from './composition/vector-index';
import { faultFile } from './faults/fault-file';

import { apiRoutes, createApp, createInternalApp } from './http/app';
import { dependencyProbes } from './health/dependency-probes';
import { DependencyStates } from './health/dependency-states';
import { reportingEmbedder, reportingVectorStore } from './health/outcome-reports';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { StageTimer } from './observability/stage-timer';
import { initTracing, shutdownTracing } from './observability/tracing';
import { seedDemoCorpus } from './rag/corpus/demo-corpus';
import type { AuditLog } from './domain/audit';
import type { Principal } from './domain/principal';
import type { BearerTokenVerifier } from './security/bearer-token-verifier';
import { systemPrincipal } from './use-cases/collection-access';
import { fixedPrincipal } from './security/authenticate';

export interface RunningService {
  readonly url: string;
  readonly port: number;
  /** Where /metrics and the readiness detail are served when INTERNAL_PORT is set. */
  readonly internalUrl?: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The one owner of dependency state: /readyz and rag_dependency_up. */
  readonly health: DependencyStates;
  /** Stops accepting, drains requests and jobs, closes every pool, within SHUTDOWN_DEADLINE_MS. */
  close(): Promise<void>;
}

const version = process.env.npm_package_version ?? '0.1.0';

/**
 * Builds the whole service from validated configuration, one named step at a time (the steps live
 * in `composition/`). Whatever a step started is closed in reverse if a later step fails.
 */
export async function startService(
  config: Config,
  options: {
    logDestination?: NodeJS.WritableStream;
    /** Verifies bearer tokens that are not API keys (JWTs); none: such tokens are refused. */
    bearer?: BearerTokenVerifier;
    /** Where security events go; by default the hash-chained audit table (data.audit). */
    audit?: AuditLog;
    /** Where the embedded default's first key is printed, once (default: stdout). */
    printCredential?: (text: string) => void;
    /**
     * Benches only (app/bench/security.ts): every /v1 request is this principal, with no credential
     * checked, so the price of authentication can be measured against its absence. A code-level
     * option on purpose: no setting or variable can turn authentication off.
     */
    unauthenticatedPrincipal?: Principal;
  } = {},
): Promise<RunningService> {
  const logger = createLogger({
    level: config.LOG_LEVEL,
    service: config.SERVICE_NAME,
    destination: options.logDestination,
  });
  const metrics = createMetrics();
  const tracer = initTracing({
    serviceName: config.SERVICE_NAME,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const timer = new StageTimer(metrics, tracer);
  // Created first so every adapter built below can report its failures to it.
  const health = new DependencyStates(metrics, logger, {
    intervalMs: config.DEPENDENCY_CHECK_INTERVAL_MS,
    timeoutMs: 1_000,
  });
  logger.info('starting', { version, config: describeConfig(config) });
  const closers = new Closers(logger);

  try {
    const data = await startDataLayer(config, {
      metrics,
      logger,
      closers,
      onPrimaryFailure: (err) => health.reportFailure('postgres_primary', err),
    });
    const cache = await createCache(config, logger, (err) => health.reportFailure('redis', err));
    closers.push(() => cache.close());
    const embedder = reportingEmbedder(createEmbedder(config, cache, metrics), health);
    const vectorStore = createVectorStore(config, embedder);
    const vectors = reportingVectorStore(vectorStore, health);
    const rebuild = await prepareVectorIndex({ db: data.db, embedder, vectors, logger, closers });

    const { retrieval, answerer } = createRetrieval(config, {
      data,
      cache,
      embedder,
      vectors,
      lexical: createLexicalSearch(config, { db: data.db, vectors: vectorStore }),
      timer,
      metrics,
      logger,
      health,
    });
    const collectionLookup = await startCollectionLookup(config, { data, logger, closers });
    const audit = options.audit ?? data.audit;
    const jwt = await startJwt(config, {
      db: data.db,
      principals: data.principals,
      audit,
      logger,
      closers,
      principalCacheTtlMs: config.AUTH_CACHE_TTL_MS,
      onRedisError: (err) => health.reportFailure('redis', err),
    });
    const security = createSecurity(config, {
      data,
      audit,
      logger,
      bearer: options.bearer ?? jwt?.verifier,
    });
    // Whatever takes access away drops this process's cached credentials of the principal: at
    // once for a change made here, on the access change notice for one made anywhere.
    const credentialsChanged = (principalId: string | null) => {
      security.changed(principalId);
      jwt?.verifier.invalidate(principalId);
    };
    await startAccessChanges(config, { data, logger, closers, changed: credentialsChanged });
    const useCases = createUseCases({
      data,
      collectionLookup,
      vectors,
      embedder,
      retrieval,
      timer,
      logger,
      maxDocumentBytes: config.MAX_DOCUMENT_BYTES,
      audit,
      minter: security.hasher,
      changed: credentialsChanged,
      denylist: jwt?.denylist,
    });
    const api = { ...useCases, ...(jwt ? { tokens: jwt.endpoints } : {}) };

    const faults = config.FAULT_INJECTION_FILE ? faultFile(config.FAULT_INJECTION_FILE) : undefined;
    // An API-only process never takes a job, so ingestion cannot slow its queries; a worker-only
    // one still runs the HTTP server, for its probes and /metrics.
    if (config.PROCESS_ROLE !== 'api')
      await startIngestionWorkers(config, { data, embedder, vectors, metrics, logger, faults });

    await health.start(
      dependencyProbes({ config, db: data.db, queue: data.queue, cache, vectors, rebuild }),
    );
    closers.push(async () => health.stop());
    // Readiness flips as soon as the index is whole, not at the next periodic check.
    void rebuild?.whenDone().then(() => health.refresh());

    const rateLimit = await createRateLimiting(config, { metrics, logger, closers });
    let shuttingDown = false;
    const app = createApp({
      api,
      health,
      metrics,
      logger,
      tracer,
      version,
      isShuttingDown: () => shuttingDown,
      faults,
      authenticate: options.unauthenticatedPrincipal
        ? fixedPrincipal(options.unauthenticatedPrincipal)
        : security.authenticate,
      corsAllowedOrigins: config.CORS_ALLOWED_ORIGINS,
      exposeQueryDiagnostics: exposesQueryDiagnostics(config),
      internalEndpointsElsewhere: config.INTERNAL_PORT !== undefined,
      rateLimit,
      trustProxy: config.HTTP_TRUST_PROXY,
    });
    const limits = serverLimits(config);
    // The embedded default's first credential, printed once to the terminal and never logged (log
    // lines are shipped and kept, a terminal is the newcomer's own), before the port opens, so the
    // key exists by the time anything can be asked. Production never gets a credential it did not
    // ask for (`npm run apikey` creates the first one).
    if (data.embedded && config.NODE_ENV !== 'production') {
      const first = await api.apiKeys.bootstrap();
      if (first) {
        (options.printCredential ?? ((text) => process.stdout.write(text)))(
          `\nFirst start: a super_admin API key was created. It is shown this once; keep it:\n\n` +
            `  export RAG_API_KEY=${first.key}\n\n` +
            `Send it as "Authorization: Bearer $RAG_API_KEY". More keys: npm run apikey -- create\n\n`,
        );
      }
    }

    const { server, port, url } = await listen(app, config.PORT, config.HOST, limits);
    closers.push(() => drainHttp(server, 0));
    const internal =
      config.INTERNAL_PORT === undefined
        ? undefined
        : await listen(
            createInternalApp({ health, metrics, isShuttingDown: () => shuttingDown }),
            config.INTERNAL_PORT,
            config.HOST,
            limits,
          );
    if (internal) closers.push(() => drainHttp(internal.server, 0));
    logger.info('listening', {
      url,
      internalUrl: internal?.url,
      routes: apiRoutes(api).length,
      database: data.embedded ? 'embedded' : 'external',
      cache: cache.kind,
      vectors: vectors.kind,
      embedder: embedder.model,
      answerer: answerer.kind,
    });

    if (config.SEED_DEMO_CORPUS ?? data.embedded) {
      // In the background: the API is usable while the runbooks are queued.
      void seedDemoCorpus({
        principal: systemPrincipal,
        dir: path.resolve(config.DEMO_CORPUS_DIR),
        collections: api.collections,
        documents: api.documents,
        maxDocumentBytes: config.MAX_DOCUMENT_BYTES,
        logger,
      }).catch((err) => logger.error('demo corpus seeding failed', { err }));
    }

    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        shuttingDown = true;
        const deadline = Date.now() + config.SHUTDOWN_DEADLINE_MS;
        await drainHttp(server, config.SHUTDOWN_DEADLINE_MS);
        // The queue drains its in-flight jobs within whatever is left of the deadline.
        await data.stopQueue(Math.max(0, deadline - Date.now()));
        await closers.closeAll();
        await shutdownTracing().catch(() => undefined);
        logger.info('stopped');
      })();
      return closing;
    };
    return { url, port, internalUrl: internal?.url, config, logger, metrics, health, close };
  } catch (err) {
    await closers.closeAll();
    throw err;
  }
}
