import type { Knex } from 'knex';

// pg-boss creates a queue as a partition of its job table (CREATE TABLE, ALTER TABLE ... ATTACH
// PARTITION): DDL, which the service's role may not run. The queues are therefore created here,
// by the migrations' role that owns the queue schema; the service's own createQueue at start-up
// then finds them and only inserts nothing (ON CONFLICT DO NOTHING) and updates their policy,
// which is DML. Names frozen as migrations are (INGEST_QUEUE and DEAD_LETTER_QUEUE in
// app/src/stores/queue/ingest-queue.ts).

const schema = 'pgboss';
const deadLetterQueue = 'ingest-dead';
const ingestQueue = 'ingest';

export async function up(knex: Knex): Promise<void> {
  // The dead-letter queue first: the ingest queue's dead_letter references it.
  await knex.raw(`SELECT ${schema}.create_queue(?, ?::json)`, [
    deadLetterQueue,
    JSON.stringify({ policy: 'standard' }),
  ]);
  await knex.raw(`SELECT ${schema}.create_queue(?, ?::json)`, [
    ingestQueue,
    JSON.stringify({ policy: 'standard', deadLetter: deadLetterQueue }),
  ]);
}

export async function down(knex: Knex): Promise<void> {
  // delete_queue drops the partition with its jobs: the inverse of up, as the other downs are.
  await knex.raw(`SELECT ${schema}.delete_queue(?)`, [ingestQueue]);
  await knex.raw(`SELECT ${schema}.delete_queue(?)`, [deadLetterQueue]);
}
