import type { Config } from '../config';
import type { DependencyCheck } from '../observability/dependency-health';
import type { VectorIndexRebuild } from '../rag/retrieval/rehydrate-vector-index';
import type { Cache } from '../stores/cache/cache';
import type { Database } from '../stores/postgres/database';
import type { VectorStore } from '../stores/vector/vector-store';

/** What readiness probes: the primary and the vector store are critical, the rest degrade. */
export function dependencyChecks(
  config: Config,
  db: Database,
  cache: Cache,
  vectors: VectorStore,
  rebuild: VectorIndexRebuild | undefined,
): DependencyCheck[] {
  const checks: DependencyCheck[] = [
    {
      name: 'postgres_primary',
      critical: true,
      async check() {
        await db.primary.raw('SELECT 1');
      },
    },
    {
      name: 'vector_store',
      critical: true,
      async check() {
        await vectors.ping();
        if (rebuild && !rebuild.ready) throw new Error(rebuild.status());
        return { kind: vectors.kind };
      },
    },
  ];
  if (config.DATABASE_REPLICA_URLS.length > 0) {
    checks.push({
      name: 'postgres_replica',
      critical: false,
      async check() {
        const health = db.health();
        const detail = { readTarget: health.readTarget, replicas: health.replicas };
        if (health.readTarget !== 'replica') {
          throw Object.assign(new Error('no usable replica: reads fall back to the primary'), {
            detail,
          });
        }
        return detail;
      },
    });
  }
  if (cache.kind === 'redis') {
    checks.push({ name: 'redis', critical: false, check: () => cache.ping() });
  }
  for (const [name, url, apiKey] of [
    ['embedder', config.EMBEDDER_URL, config.EMBEDDER_API_KEY],
    ['chat', config.CHAT_URL, config.CHAT_API_KEY],
  ] as const) {
    if (!url) continue;
    checks.push({
      name,
      critical: false,
      // Every OpenAI-compatible server lists its models; it costs nothing, unlike a test embedding.
      async check() {
        const res = await fetch(`${url.replace(/\/$/, '')}/models`, {
          headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
          signal: AbortSignal.timeout(1_000),
        });
        await res.body?.cancel();
        if (res.status >= 500) throw new Error(`GET /models answered ${res.status}`);
      },
    });
  }
  return checks;
}
