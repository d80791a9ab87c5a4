import type { Knex } from 'knex';

// Fills search_vector for chunks written before the previous migration, then builds the GIN
// index lexical search reads. Neither may hold a lock that blocks ingestion for the length of the
// table: the backfill commits in small batches (each locks only its own rows) and the index is
// built CONCURRENTLY, which Postgres refuses inside a transaction — hence no transaction here.

export const config = { transaction: false };

const index = 'chunks_search_vector_idx';
const backfillBatch = 1_000;

export const statements = {
  // Session settings on the one connection the migration holds (the pool's own statement timeout
  // is sized for requests, not for an index build); reset before the connection goes back.
  timeouts: ["SET lock_timeout = '5s'", "SET statement_timeout = '1h'"],
  resetTimeouts: ['RESET lock_timeout', 'RESET statement_timeout'],
  backfill: `UPDATE chunks AS c
       SET search_vector = rag_chunk_search_vector(d.title, c.heading_path, c.text)
      FROM documents AS d
     WHERE d.id = c.document_id
       AND c.id IN (SELECT id FROM chunks WHERE search_vector IS NULL LIMIT ${backfillBatch})`,
  // A CONCURRENTLY build that failed (lock timeout, cancelled deploy) leaves an invalid index
  // behind, which IF NOT EXISTS would then accept as done: drop it so the retry builds it again.
  dropInvalid: `DROP INDEX CONCURRENTLY IF EXISTS ${index}`,
  // fastupdate off: with GIN's default pending list every search scans the entries inserted since
  // the last vacuum, linearly (measured: 2-23 ms for a term in no chunk, 0.1 ms once flushed, at
  // 10,000 freshly ingested chunks). Ingestion pays the index update per insert instead, off the
  // query path.
  createIndex: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${index} ON chunks USING gin (search_vector) WITH (fastupdate = off)`,
  dropIndex: `DROP INDEX CONCURRENTLY IF EXISTS ${index}`,
};

/** Runs `fn` on one pooled connection with the migration's timeouts, which it then resets. */
async function onOneConnection(
  knex: Knex,
  fn: (run: (sql: string, bindings?: readonly string[]) => Promise<unknown>) => Promise<void>,
): Promise<void> {
  const connection: unknown = await knex.client.acquireConnection();
  const run = (sql: string, bindings: readonly string[] = []) =>
    knex.raw(sql, bindings).connection(connection);
  try {
    for (const sql of statements.timeouts) await run(sql);
    await fn(run);
  } finally {
    for (const sql of statements.resetTimeouts) await run(sql).catch(() => undefined);
    await knex.client.releaseConnection(connection);
  }
}

export async function up(knex: Knex): Promise<void> {
  await onOneConnection(knex, async (run) => {
    for (;;) {
      const { rowCount } = (await run(statements.backfill)) as { rowCount: number };
      // A chunk without a document is gone with it (cascade), so every remaining row matches.
      if (!rowCount) break;
    }
    const { rows } = (await run(
      'SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass(?)',
      [index],
    )) as { rows: { valid: boolean }[] };
    if (rows[0] && !rows[0].valid) await run(statements.dropInvalid);
    await run(statements.createIndex);
  });
}

export async function down(knex: Knex): Promise<void> {
  await onOneConnection(knex, async (run) => {
    await run(statements.dropIndex);
  });
}
