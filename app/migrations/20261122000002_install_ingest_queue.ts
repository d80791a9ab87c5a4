import PgBoss from 'pg-boss';
import type { Knex } from 'knex';

// The durable ingest queue (pg-boss) lives in its own schema of the same database as the
// documents, which is what makes the transactional enqueue possible. Installing it here ties its
// lifecycle to the app's migrations (down removes it); later pg-boss upgrades are still applied by
// pg-boss itself at start-up from its own version table.

// Must equal QUEUE_SCHEMA in app/src/stores/queue/ingest-queue.ts; frozen here as migrations are.
const schema = 'pgboss';

// pg-boss's construction script manages its own transaction and advisory lock.
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: { installed: string | null }[] }>(
    'SELECT to_regclass(?) AS installed',
    [`${schema}.version`],
  );
  if (rows[0]?.installed) return;
  await knex.raw(PgBoss.getConstructionPlans(schema));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}
