import type { Knex } from 'knex';

// Counts the terms of chunks written before the triggers of the previous migration, one
// collection per transaction. Each recount holds the collection's row lock, as every writer of its
// chunks does (CollectionsRepository.lockForUpdate), so it sees no half-written document and
// replaces whatever the triggers counted meanwhile with the exact figure. Ingest requests and
// queries do not wait (ingest takes KEY SHARE; queries take no lock); indexing in that collection
// waits for its recount (about a second per 100,000 chunks).

export const config = { transaction: false };

export const statements = {
  // The pool's statement timeout is sized for requests, not for recounting a large collection.
  timeouts: ["SET lock_timeout = '5s'", "SET statement_timeout = '1h'"],
  resetTimeouts: ['RESET lock_timeout', 'RESET statement_timeout'],
  collections: 'SELECT id FROM collections ORDER BY id',
  lock: 'SELECT id FROM collections WHERE id = ? FOR NO KEY UPDATE',
  clear: 'DELETE FROM chunk_term_counts WHERE collection_id = ?',
  // Through documents: chunks has no index on collection_id, documents has.
  recount: `INSERT INTO chunk_term_counts (collection_id, term, chunks)
    SELECT d.collection_id, t.term, count(*)::int
      FROM documents AS d
      JOIN chunks AS c ON c.document_id = d.id
     CROSS JOIN LATERAL unnest(array_append(
       coalesce(tsvector_to_array(c.search_vector), '{}'), '')) AS t(term)
     WHERE d.collection_id = ?
     GROUP BY d.collection_id, t.term`,
};

export async function up(knex: Knex): Promise<void> {
  const connection: unknown = await knex.client.acquireConnection();
  const run = (sql: string, bindings: readonly string[] = []) =>
    knex.raw(sql, bindings).connection(connection);
  try {
    for (const sql of statements.timeouts) await run(sql);
    const { rows } = (await run(statements.collections)) as { rows: { id: string }[] };
    for (const { id } of rows) {
      await run('BEGIN');
      try {
        const locked = (await run(statements.lock, [id])) as { rows: unknown[] };
        // Deleted since the list was read: its counts went with it.
        if (locked.rows.length > 0) {
          await run(statements.clear, [id]);
          await run(statements.recount, [id]);
        }
        await run('COMMIT');
      } catch (err) {
        await run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
  } finally {
    for (const sql of statements.resetTimeouts) await run(sql).catch(() => undefined);
    await knex.client.releaseConnection(connection);
  }
}

/** The counts go with the table, which the previous migration's down drops. */
export async function down(): Promise<void> {}
