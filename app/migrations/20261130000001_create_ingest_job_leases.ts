import type { Knex } from 'knex';

// Which worker process holds which active ingest job. pg-boss records no owner, so without this a
// job whose worker was killed stays active until its expiry (minutes); with it, any live process
// sees that the holder's database session is gone and fails the job into a prompt retry
// (app/src/stores/queue/ingest-queue.ts).

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ingest_job_leases', (t) => {
    t.uuid('job_id').primary();
    t.text('worker').notNullable();
    t.timestamp('leased_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ingest_job_leases');
}
