import type { Knex } from 'knex';

// Lexical (full-text) search over chunks, the other half of hybrid retrieval
// (app/src/stores/postgres/lexical-search-repository.ts). Expand-only: a nullable column (no table
// rewrite, old pods keep inserting without naming it) and a trigger that fills it on every insert,
// so rows written by the previous version during a rolling deploy are searchable too. The GIN
// index and the backfill of existing rows follow in the next migration, outside a transaction.
//
// The weighting: the document's title (A) and the chunk's heading path (B) say what a chunk is
// about more reliably than its body (D). 'english' is the corpus's language; the same regconfig
// must be used to parse queries (LEXICAL_TEXT_SEARCH_CONFIG in the repository).

export const statements = {
  up: [
    // Knex runs this migration in one transaction; the ALTER takes ACCESS EXCLUSIVE on chunks for a
    // catalog-only change, and must give up rather than queue ingestion behind a long reader.
    "SET LOCAL lock_timeout = '2s'",
    "SET LOCAL statement_timeout = '30s'",
    'ALTER TABLE chunks ADD COLUMN IF NOT EXISTS search_vector tsvector',
    `CREATE OR REPLACE FUNCTION rag_chunk_search_vector(title text, heading_path text[], body text)
       RETURNS tsvector LANGUAGE sql STABLE PARALLEL SAFE AS $$
         SELECT setweight(to_tsvector('english', coalesce(title, '')), 'A')
             || setweight(to_tsvector('english', array_to_string(heading_path, ' ')), 'B')
             || to_tsvector('english', body)
       $$`,
    `CREATE OR REPLACE FUNCTION rag_chunks_set_search_vector() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         NEW.search_vector := rag_chunk_search_vector(
           (SELECT title FROM documents WHERE id = NEW.document_id), NEW.heading_path, NEW.text);
         RETURN NEW;
       END
       $$`,
    // On every insert and update, not `UPDATE OF <columns>`: a column list would make those
    // columns depend on the trigger, so a later contract migration dropping one would fail.
    // Chunk rows are replaced, never updated, so the wider trigger costs nothing.
    `CREATE OR REPLACE TRIGGER chunks_search_vector
       BEFORE INSERT OR UPDATE ON chunks
       FOR EACH ROW EXECUTE FUNCTION rag_chunks_set_search_vector()`,
  ],
  down: [
    "SET LOCAL lock_timeout = '2s'",
    "SET LOCAL statement_timeout = '30s'",
    'DROP TRIGGER IF EXISTS chunks_search_vector ON chunks',
    'DROP FUNCTION IF EXISTS rag_chunks_set_search_vector()',
    'DROP FUNCTION IF EXISTS rag_chunk_search_vector(text, text[], text)',
    'ALTER TABLE chunks DROP COLUMN IF EXISTS search_vector',
  ],
};

export async function up(knex: Knex): Promise<void> {
  for (const sql of statements.up) await knex.raw(sql);
}

export async function down(knex: Knex): Promise<void> {
  for (const sql of statements.down) await knex.raw(sql);
}
