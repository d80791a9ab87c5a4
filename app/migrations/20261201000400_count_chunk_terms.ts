import type { Knex } from 'knex';

// How many chunks of a collection hold each search term, kept exact by statement triggers on
// chunks, so lexical search (app/src/stores/postgres/lexical-search-repository.ts) reads a term's
// document frequency with one index probe instead of counting its matches. Counting visits a heap
// row per match (the GIN index cannot tell collections apart): at 100,000 chunks that was ~2 ms a
// term and half of a search's cost. The empty term counts every chunk of the collection (no
// lexeme is empty), so the same probe reads the collection's size.
//
// Every transaction that writes a collection's chunks holds its row lock first (indexing, document
// delete, collection delete: CollectionsRepository.lockForUpdate), so two never update the same
// counts at once: no new contention, no deadlock. A collection being deleted skips the decrement
// (the cascade deletes its chunks document by document, one statement each; its counts go with it
// by the foreign key). Counts at zero stay as rows: a term once seen, harmless (it matches
// nothing). Rows that existed before these triggers are counted by the next migration.

export const statements = {
  up: [
    "SET LOCAL lock_timeout = '2s'",
    "SET LOCAL statement_timeout = '30s'",
    `CREATE TABLE IF NOT EXISTS chunk_term_counts (
       collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
       term text NOT NULL,
       chunks integer NOT NULL,
       PRIMARY KEY (collection_id, term)
     )`,
    `CREATE OR REPLACE FUNCTION rag_count_chunk_terms() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP IN ('DELETE', 'UPDATE') THEN
           UPDATE chunk_term_counts AS s
              SET chunks = s.chunks - r.n
             FROM (SELECT o.collection_id, t.term, count(*)::int AS n
                     FROM old_chunks AS o
                     JOIN collections AS c ON c.id = o.collection_id
                    CROSS JOIN LATERAL unnest(array_append(
                      coalesce(tsvector_to_array(o.search_vector), '{}'), '')) AS t(term)
                    GROUP BY o.collection_id, t.term) AS r
            WHERE s.collection_id = r.collection_id AND s.term = r.term;
         END IF;
         IF TG_OP IN ('INSERT', 'UPDATE') THEN
           INSERT INTO chunk_term_counts AS s (collection_id, term, chunks)
           SELECT n.collection_id, t.term, count(*)::int
             FROM new_chunks AS n
            CROSS JOIN LATERAL unnest(array_append(
              coalesce(tsvector_to_array(n.search_vector), '{}'), '')) AS t(term)
            GROUP BY n.collection_id, t.term
            ORDER BY n.collection_id, t.term
           ON CONFLICT (collection_id, term) DO UPDATE SET chunks = s.chunks + excluded.chunks;
         END IF;
         RETURN NULL;
       END
       $$`,
    // One trigger per event: Postgres allows transition tables only on single-event triggers.
    `CREATE OR REPLACE TRIGGER chunks_count_terms_insert
       AFTER INSERT ON chunks REFERENCING NEW TABLE AS new_chunks
       FOR EACH STATEMENT EXECUTE FUNCTION rag_count_chunk_terms()`,
    `CREATE OR REPLACE TRIGGER chunks_count_terms_update
       AFTER UPDATE ON chunks REFERENCING OLD TABLE AS old_chunks NEW TABLE AS new_chunks
       FOR EACH STATEMENT EXECUTE FUNCTION rag_count_chunk_terms()`,
    `CREATE OR REPLACE TRIGGER chunks_count_terms_delete
       AFTER DELETE ON chunks REFERENCING OLD TABLE AS old_chunks
       FOR EACH STATEMENT EXECUTE FUNCTION rag_count_chunk_terms()`,
  ],
  down: [
    "SET LOCAL lock_timeout = '2s'",
    "SET LOCAL statement_timeout = '30s'",
    'DROP TRIGGER IF EXISTS chunks_count_terms_delete ON chunks',
    'DROP TRIGGER IF EXISTS chunks_count_terms_update ON chunks',
    'DROP TRIGGER IF EXISTS chunks_count_terms_insert ON chunks',
    'DROP FUNCTION IF EXISTS rag_count_chunk_terms()',
    'DROP TABLE IF EXISTS chunk_term_counts',
  ],
};

export async function up(knex: Knex): Promise<void> {
  for (const sql of statements.up) await knex.raw(sql);
}

export async function down(knex: Knex): Promise<void> {
  for (const sql of statements.down) await knex.raw(sql);
}
