import type { Knex } from 'knex';
import type { LexicalHit, LexicalSearch, LexicalSearchRequest } from '../../domain/lexical-search';
import type { Database } from './database';
import { isUuid, withPostgres } from './postgres-errors';

// Full-text search over chunk rows (search_vector, filled by a trigger, see the migration
// 20261130000002_add_chunk_search_vector). Postgres ranks a match by term frequency and weight
// class only, with no notion of how rare a term is, so on its own `ts_rank` lets "service" or
// "check" outvote "wal" or "failover". The query below therefore scores like BM25's sum over
// query terms: each term's rank within the chunk times its inverse document frequency in the
// collection, counted from the GIN index per term. Terms are OR-ed: a paraphrased question shares
// only some of its words with the passage that answers it.
//
// A chunk's score is then scaled by (1 + how much of the question its whole document covers: the
// idf sum of the query terms found in any of its chunks). A runbook spreads one topic over its
// sections (meaning, impact, diagnosis, mitigation), and a question mixes a symptom from one with
// an action from another: a chunk whose document also holds the question's other rare terms is
// the better bet. On the runbook questions this lifts lexical hit@1 from 0.43 to 0.69; the gain is
// flat for any weight from 1 to 10, so the weight is not tuned to the set
// (`npm run bench -- retrieval-quality`).

/** Must equal the regconfig the migration's rag_chunk_search_vector() uses. */
export const LEXICAL_TEXT_SEARCH_CONFIG = 'english';

const searchSql = (filters: string) => `
  WITH terms AS (
    SELECT DISTINCT t.lexeme, quote_literal(t.lexeme)::tsquery AS q
      FROM unnest(to_tsvector('${LEXICAL_TEXT_SEARCH_CONFIG}', :query)) AS t
  ),
  stats AS (
    SELECT greatest(coalesce(sum(chunk_count), 0), 1)::float8 AS n
      FROM documents WHERE collection_id = :collection
  ),
  weighted AS (
    SELECT terms.q, ln(1 + (stats.n - df.n + 0.5) / (df.n + 0.5)) AS idf
      FROM terms
     CROSS JOIN stats
     CROSS JOIN LATERAL (
       SELECT count(*)::float8 AS n FROM chunks
        WHERE collection_id = :collection AND search_vector @@ terms.q
     ) AS df
     WHERE df.n > 0
  ),
  matches AS (
    SELECT c.id, c.document_id, c.search_vector
      FROM chunks AS c
      JOIN documents AS d ON d.id = c.document_id
     WHERE c.collection_id = :collection
       AND c.search_vector @@ (SELECT string_agg(q::text, ' | ')::tsquery FROM weighted)
       ${filters}
  ),
  pairs AS (
    SELECT m.id, m.document_id, w.q, w.idf, w.idf * ts_rank(m.search_vector, w.q) AS score
      FROM matches AS m
      JOIN weighted AS w ON m.search_vector @@ w.q
  ),
  chunk_scores AS (
    SELECT id, document_id, sum(score) AS score FROM pairs GROUP BY id, document_id
  ),
  document_coverage AS (
    SELECT document_id, sum(idf) AS coverage
      FROM (SELECT DISTINCT document_id, q::text AS term, idf FROM pairs) AS terms_found
     GROUP BY document_id
  )
  SELECT c.id, c.document_id, c.score * (1 + d.coverage) AS score
    FROM chunk_scores AS c
    JOIN document_coverage AS d USING (document_id)
   ORDER BY score DESC, c.id
   LIMIT :limit`;

export class PostgresLexicalSearch implements LexicalSearch {
  readonly kind = 'postgres' as const;

  constructor(private readonly db: Database) {}

  search(request: LexicalSearchRequest): Promise<LexicalHit[]> {
    return withPostgres(async () => {
      const { filter } = request;
      const bindings: Record<string, unknown> = {
        query: request.query,
        collection: request.collectionKey,
        limit: request.limit,
      };
      let filters = '';
      if (filter?.documentIds) {
        // A malformed id matches no document (as in the vector stores); Postgres would reject it.
        const ids = filter.documentIds.filter(isUuid);
        if (ids.length === 0) return [];
        filters += ' AND c.document_id = ANY(:documentIds::uuid[])';
        bindings.documentIds = ids;
      }
      if (filter?.metadata && Object.keys(filter.metadata).length > 0) {
        filters += ' AND d.metadata @> :metadata::jsonb';
        bindings.metadata = JSON.stringify(filter.metadata);
      }
      const run = (db: Knex) =>
        db.raw<{ rows: { id: string; document_id: string; score: number }[] }>(
          searchSql(filters),
          bindings,
        );
      const { rows } = await this.db.read(run);
      return rows.map((r) => ({ id: r.id, documentId: r.document_id, score: Number(r.score) }));
    });
  }
}
