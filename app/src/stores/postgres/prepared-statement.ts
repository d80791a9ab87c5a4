import { hash } from 'node:crypto';
import type { Knex } from 'knex';

// The query path's statements (lexical search, chunk fetch) as named prepared statements, sent on
// a connection borrowed from the knex pool. Postgres then parses and plans each once per
// connection instead of on every question: under uncached load, planning was 70% of these
// statements' server time (pg_stat_statements: 0.49 ms planning against 0.21 ms executing per
// question), and knex's builder and formatter a quarter of the service's own database CPU.
//
// Postgres keeps a parameterised plan after five custom ones only when it is not costlier, so a
// statement whose best plan depends on its values still gets a custom plan.

/** The pooled connection's driver surface this module uses (node-postgres' Client). */
interface PgConnection {
  query(config: { name?: string; text: string; values: readonly unknown[] }): Promise<{
    rows: unknown[];
  }>;
}

/**
 * "cached plan must not change result type": a migration changed a selected column's type under a
 * connection that had prepared the statement. Postgres keeps refusing that name on that
 * connection, so the statement runs unnamed there (parsed each time, as knex does).
 */
const resultTypeChanged = '0A000';

export class PreparedStatement<Row> {
  /** Derived from the text: node-postgres refuses a name reused with another text. */
  readonly name: string;
  private readonly stale = new WeakSet<object>();

  constructor(readonly text: string) {
    this.name = `rag_${hash('sha1', text).slice(0, 20)}`;
  }

  /** Runs on a connection of `pool` (a primary or replica pool of Database), returning its rows. */
  async rows(pool: Knex, values: readonly unknown[]): Promise<Row[]> {
    const client = pool.client as Knex.Client;
    const connection = (await client.acquireConnection()) as PgConnection;
    try {
      // As knex announces its own queries, so the pool's `query` listeners see these too.
      if (pool.listenerCount('query') > 0) {
        client.emit('query', { sql: this.text, bindings: values, method: 'raw' });
      }
      if (this.stale.has(connection)) return await this.unnamed(connection, values);
      try {
        return (await connection.query({ name: this.name, text: this.text, values })).rows as Row[];
      } catch (err) {
        if ((err as { code?: unknown }).code !== resultTypeChanged) throw err;
        this.stale.add(connection);
        return await this.unnamed(connection, values);
      }
    } catch (err) {
      // Failures too, for Database's primary-failure hook.
      client.emit('query-error', err, { sql: this.text, bindings: values });
      throw err;
    } finally {
      await client.releaseConnection(connection);
    }
  }

  private async unnamed(connection: PgConnection, values: readonly unknown[]): Promise<Row[]> {
    return (await connection.query({ text: this.text, values })).rows as Row[];
  }
}
