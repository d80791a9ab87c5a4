import type { LexicalHit, LexicalSearch, LexicalSearchRequest } from '../../domain/lexical-search';
import type { Database } from './database';
import { isUuid, withPostgres } from './postgres-errors';
import { PreparedStatement } from './prepared-statement';

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
// And by (1 + how much of the question the chunk itself covers, the same idf sum over its own
// terms): a coordination factor, as in Lucene's classic scoring. `ts_rank` grows with repetition,
// so without it a chunk saying "KMS" five times outranks the one naming KMS together with the
// restart the question is about; and the document factor alone favours long documents, which hold
// more of any question's words somewhere (the long procedures, sla-load-test, secret-rotation and
// audit-log, came first on questions about other runbooks that way). On the 44 runbook questions
// over 45 runbooks it lifts lexical search from 0.477 / 0.682 (hit@1 / hit@3) to 0.682 / 0.841,
// and hybrid from 0.705 / 0.886 to 0.750-0.773 / 0.932, alike for a weight of 0.5, 1 or 2 on it
// and for any RRF k from 30 to 100.
//
// One round trip to a replica, a prepared statement (prepared-statement.ts) per filter shape. It
// parses the question with the server's own parser and stemmer and reads each term's chunk count
// in the collection, and the collection's size, from chunk_term_counts (kept exact by triggers,
// migration 20261201000400): one index probe per term. Then it picks the candidate terms, reads
// the matching chunks and scores them.
//
// What a search costs is the chunk rows it reads (the GIN index cannot tell collections apart, so
// every match is a heap visit, then ts_rank). Candidates are therefore the chunks holding the
// rarest terms, taken rarest first while their chunk counts add up to at most CANDIDATE_CHUNKS;
// every qualifying term still scores those candidates. The rarest terms carry the largest idf, so
// the chunks they miss are the ones that could only score on commoner words. A collection of at
// most CANDIDATE_CHUNKS chunks (the runbooks: a few hundred) is searched with every term; at
// 100,000 chunks this keeps a search to a few milliseconds (`npm run bench -- index`).
//
// Scoring runs on sorts and window aggregates only, never a join between two intermediate
// results: the planner cannot estimate those, and a nested loop it chose over two of them cost
// 1.3 s on one question at 100,000 chunks.

/** Must equal the regconfig the migration's rag_chunk_search_vector() uses. */
export const LEXICAL_TEXT_SEARCH_CONFIG = 'english';

/**
 * A term found in more chunks than this is left out of the search. Scoring visits every chunk
 * matching a term, so without a bound one common word makes a query on a large collection read
 * most of it. Such a term's idf is near zero in a large collection anyway; in a collection smaller
 * than the bound nothing is left out.
 */
export const COMMON_TERM_CHUNKS = 1_000;

/**
 * Chunk rows a search reads at most: the candidates' terms, rarest first, while their chunk counts
 * fit (the rarest qualifying term always fits, as COMMON_TERM_CHUNKS is smaller).
 */
export const CANDIDATE_CHUNKS = 2_000;

/** Terms looked up per question, in the order they appear (bounds a pasted wall of text). */
export const MAX_QUERY_TERMS = 32;

/** Which filters a search applies: each shape is a statement of its own. */
interface SearchShape {
  readonly byDocument: boolean;
  readonly byMetadata: boolean;
}

/**
 * $1 the question, $2 the collection key, $3 the limit, then $4 the document ids and $5 (or $4)
 * the metadata when filtered by them.
 *
 * `terms`: the question's lexemes, by the server's own parser and stemmer, with each one's chunk
 * count in the collection and the collection's size (chunk_term_counts). `ranked`: those in at
 * least one and at most COMMON_TERM_CHUNKS chunks, each as a one-term tsquery literal (taken as
 * is: it is already normalised), with BM25's idf, ln(1 + (N - n + 0.5) / (n + 0.5)) for a term
 * in n of N chunks. `weighted`: whether each is a candidate: every term when the collection has
 * at most CANDIDATE_CHUNKS chunks, otherwise the rarest while their chunk counts add up to at
 * most CANDIDATE_CHUNKS (the rarest always).
 */
function searchSql({ byDocument, byMetadata }: SearchShape): string {
  const join = byMetadata ? 'JOIN documents AS d ON d.id = c.document_id' : '';
  const filters = [
    byDocument ? 'AND c.document_id = ANY($4::uuid[])' : '',
    byMetadata ? `AND d.metadata @> $${byDocument ? 5 : 4}::jsonb` : '',
  ].join(' ');
  return `
  WITH terms AS (
    SELECT t.lexeme, coalesce(s.chunks, 0) AS chunks, coalesce(total.chunks, 0) AS total
      FROM (
        SELECT lexeme, positions[1] AS position
          FROM unnest(to_tsvector('${LEXICAL_TEXT_SEARCH_CONFIG}', $1::text))
         ORDER BY position, lexeme
         LIMIT ${MAX_QUERY_TERMS}
      ) AS t
      LEFT JOIN chunk_term_counts AS s ON s.collection_id = $2::uuid AND s.term = t.lexeme
      LEFT JOIN chunk_term_counts AS total
        ON total.collection_id = $2::uuid AND total.term = ''
  ),
  ranked AS (
    SELECT lexeme, total,
           '''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''' AS literal,
           ln(1 + (total - chunks + 0.5)::float8 / (chunks + 0.5)) AS idf,
           row_number() OVER rarest AS rarity,
           sum(chunks) OVER (rarest ROWS UNBOUNDED PRECEDING) AS rarer_chunks
      FROM terms
     WHERE chunks > 0 AND chunks <= ${COMMON_TERM_CHUNKS}
    WINDOW rarest AS (ORDER BY chunks, lexeme COLLATE "C")
  ),
  weighted AS MATERIALIZED (
    SELECT lexeme AS term, literal, literal::tsquery AS q, idf,
           total <= ${CANDIDATE_CHUNKS} OR rarity = 1 OR rarer_chunks <= ${CANDIDATE_CHUNKS}
             AS candidate
      FROM ranked
  ),
  matches AS MATERIALIZED (
    SELECT c.id, c.document_id, c.search_vector
      FROM chunks AS c ${join}
     WHERE c.collection_id = $2::uuid
       AND c.search_vector @@ (
         SELECT string_agg(literal, ' | ')::tsquery FROM weighted WHERE candidate
       )
       ${filters}
  ),
  pairs AS (
    SELECT m.id, m.document_id, w.term, w.idf, w.idf * ts_rank(m.search_vector, w.q) AS score
      FROM matches AS m CROSS JOIN weighted AS w
     WHERE m.search_vector @@ w.q
  ),
  marked AS (
    SELECT pairs.*,
           row_number() OVER (PARTITION BY document_id, term ORDER BY id) AS nth_in_document
      FROM pairs
  ),
  covered AS (
    SELECT marked.*,
           sum(CASE WHEN nth_in_document = 1 THEN idf ELSE 0 END)
             OVER (PARTITION BY document_id) AS coverage
      FROM marked
  )
  -- One row per (chunk, matched term): sum(idf) is the chunk's own coverage of the question.
  SELECT id, document_id, sum(score) * (1 + sum(idf)) * (1 + max(coverage)) AS score
    FROM covered
   GROUP BY id, document_id
   ORDER BY score DESC, id
   LIMIT $3::int`;
}

const searchStatements = new Map<string, PreparedStatement<SearchRow>>();

interface SearchRow {
  id: string;
  document_id: string;
  score: number;
}

function searchStatement(shape: SearchShape): PreparedStatement<SearchRow> {
  const key = `${shape.byDocument}:${shape.byMetadata}`;
  let statement = searchStatements.get(key);
  if (!statement) {
    statement = new PreparedStatement<SearchRow>(searchSql(shape));
    searchStatements.set(key, statement);
  }
  return statement;
}

export class PostgresLexicalSearch implements LexicalSearch {
  readonly kind = 'postgres' as const;

  constructor(private readonly db: Database) {}

  search(request: LexicalSearchRequest): Promise<LexicalHit[]> {
    return withPostgres(async () => {
      const { filter } = request;
      const filters: unknown[] = [];
      let byDocument = false;
      let byMetadata = false;
      if (filter?.documentIds) {
        // A malformed id matches no document (as in the vector stores); Postgres would reject it.
        const ids = filter.documentIds.filter(isUuid);
        if (ids.length === 0) return [];
        byDocument = true;
        filters.push(ids);
      }
      if (filter?.metadata && Object.keys(filter.metadata).length > 0) {
        byMetadata = true;
        filters.push(JSON.stringify(filter.metadata));
      }
      const statement = searchStatement({ byDocument, byMetadata });
      const values = [request.query, request.collectionKey, request.limit, ...filters];
      const rows = await this.db.read((db) => statement.rows(db, values));
      return rows.map((r) => ({ id: r.id, documentId: r.document_id, score: Number(r.score) }));
    });
  }
}
