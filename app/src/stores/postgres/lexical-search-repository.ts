import type { Knex } from 'knex';
import type { LexicalHit, LexicalSearch, LexicalSearchRequest } from '../../domain/lexical-search';
import type { Database } from './database';
import { isUuid, withPostgres } from './postgres-errors';

// Full-text search over chunk rows (search_vector, filled by a trigger, see the migration
// 20261130000002_add_chunk_search_vector). Postgres ranks a match by term frequency and weight
// class only, with no notion of how rare a term is, so on its own `ts_rank` lets "service" or
// "check" outvote "wal" or "failover". The search therefore scores like BM25's sum over query
// terms: each term's rank within the chunk times its inverse document frequency in the
// collection. Terms are OR-ed: a paraphrased question shares only some of its words with the
// passage that answers it.
//
// A chunk's score is then scaled by (1 + how much of the question its whole document covers: the
// idf sum of the query terms found in any of its chunks). A runbook spreads one topic over its
// sections (meaning, impact, diagnosis, mitigation), and a question mixes a symptom from one with
// an action from another: a chunk whose document also holds the question's other rare terms is
// the better bet. On the runbook questions this lifts lexical hit@1 from 0.43 to 0.69; the gain is
// flat for any weight from 1 to 10, so the weight is not tuned to the set
// (`npm run bench -- retrieval-quality`).
//
// Two round trips to a replica: the question's lexemes (the server's own parser and stemmer),
// then the search, with each lexeme bound as its own tsquery value. Bound values reach the
// planner as constants, so it estimates each term's frequency from the column statistics and
// counts a common term by a short sequential scan that stops at the bound below, a rare one from
// the GIN index (one tsquery computed inside the statement would get the index plan for every
// term: ~10 ms per common word at 10,000 chunks).

/** Must equal the regconfig the migration's rag_chunk_search_vector() uses. */
export const LEXICAL_TEXT_SEARCH_CONFIG = 'english';

/**
 * A term found in more chunks than this is left out of the search. Scoring visits every chunk
 * matching any term, so without a bound one common word makes a query on a large collection read
 * most of it (measured: 0.35-0.75 s at 10,000 chunks of a small vocabulary). Such a term's idf is
 * near zero in a large collection anyway; in a collection smaller than the bound nothing is left
 * out. Counting stops at the bound too.
 */
export const COMMON_TERM_CHUNKS = 1_000;

/** Terms looked up per question, in the order they appear (bounds a pasted wall of text). */
export const MAX_QUERY_TERMS = 32;

const lexemesSql = `
  SELECT t.lexeme
    FROM unnest(to_tsvector('${LEXICAL_TEXT_SEARCH_CONFIG}', ?)) AS t
   ORDER BY t.positions[1], t.lexeme
   LIMIT ${MAX_QUERY_TERMS}`;

function searchSql(terms: number, filters: string): string {
  const termRows = Array.from(
    { length: terms },
    (_, i) => `
    SELECT :t${i}::tsquery AS q, (
      SELECT count(*)::float8 FROM (
        SELECT 1 FROM chunks
         WHERE collection_id = :collection AND search_vector @@ :t${i}::tsquery
         LIMIT ${COMMON_TERM_CHUNKS + 1}
      ) AS bounded
    ) AS n`,
  ).join('\n    UNION ALL');
  return `
  WITH terms AS (${termRows}
  ),
  stats AS (
    SELECT greatest(coalesce(sum(chunk_count), 0), 1)::float8 AS n
      FROM documents WHERE collection_id = :collection
  ),
  weighted AS (
    SELECT terms.q, ln(1 + (stats.n - terms.n + 0.5) / (terms.n + 0.5)) AS idf
      FROM terms CROSS JOIN stats
     WHERE terms.n > 0 AND terms.n <= ${COMMON_TERM_CHUNKS}
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
}

/** A lexeme as a one-term tsquery literal, taken as is (it is already normalised). */
function tsqueryLiteral(lexeme: string): string {
  return `'${lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

export class PostgresLexicalSearch implements LexicalSearch {
  readonly kind = 'postgres' as const;

  constructor(private readonly db: Database) {}

  search(request: LexicalSearchRequest): Promise<LexicalHit[]> {
    return withPostgres(async () => {
      const { filter } = request;
      const bindings: Record<string, unknown> = {
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
      const run = async (db: Knex) => {
        const { rows: lexemes } = await db.raw<{ rows: { lexeme: string }[] }>(lexemesSql, [
          request.query,
        ]);
        if (lexemes.length === 0) return [];
        lexemes.forEach((l, i) => (bindings[`t${i}`] = tsqueryLiteral(l.lexeme)));
        const { rows } = await db.raw<{
          rows: { id: string; document_id: string; score: number }[];
        }>(searchSql(lexemes.length, filters), bindings);
        return rows;
      };
      const rows = await this.db.read(run);
      return rows.map((r) => ({ id: r.id, documentId: r.document_id, score: Number(r.score) }));
    });
  }
}
