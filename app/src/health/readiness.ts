import type { DependencyName } from '../domain/errors';

// Readiness answers one question for the load balancer: can THIS pod serve its traffic? A pod that
// is not ready leaves rotation, and every pod sees the same shared dependencies, so marking pods
// unready for a shared outage turns a partial outage into a total one (every pod leaves at once and
// clients get connection errors instead of the 503 problems and fallbacks the API has for them).
//
// The rule, per dependency:
// - postgres_primary down: still ready (degraded) while a replica serves reads — queries, lookups
//   and listings keep working and writes answer 503 problems. Not ready when no replica can serve
//   either: then the pod can answer nothing but errors.
// - postgres_replica (any replica down or lagging): ready, degraded — reads fall back to the primary.
// - redis: ready, degraded — the cache is an optimisation; requests run uncached.
// - vector_store: ready, degraded when the shared store (Qdrant) is unreachable — collections and
//   ingestion still work and queries answer 503. Not ready when the pod's OWN in-process index is
//   still being rebuilt: it would answer from a partial index while its peers answer correctly.
// - embedder: ready, degraded — queries answer 503, ingestion retries.
// - chat: ready, degraded — answers fall back to the extractive answerer.
// - a missing schema (tables or queue dropped): not ready — every request would fail.
// - shutting down (http/app.ts): not ready, so the load balancer drains the pod first.

export type Readiness = 'ready' | 'degraded' | 'down';

export type DependencyState = 'up' | 'degraded' | 'down';

export interface DependencyReport {
  readonly state: DependencyState;
  readonly detail?: Record<string, unknown>;
}

export function decideReadiness(
  dependencies: Partial<Record<DependencyName, DependencyReport>>,
  podCannotServe: readonly string[],
): { status: Readiness; reasons: string[] } {
  const reasons = [...podCannotServe];
  const primary = dependencies.postgres_primary?.state;
  const replica = dependencies.postgres_replica?.state;
  if (primary === 'down' && (replica === undefined || replica === 'down')) {
    reasons.push('no database to read from: the primary and every replica are unusable');
  }
  if (reasons.length) return { status: 'down', reasons };
  const allUp = Object.values(dependencies).every((d) => d?.state === 'up');
  return { status: allUp ? 'ready' : 'degraded', reasons };
}
