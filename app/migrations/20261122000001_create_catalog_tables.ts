import type { Knex } from 'knex';

// Collections, documents and chunks: the metadata side of the RAG index. Vectors live in the
// vector store; everything needed to rebuild them (document content) lives here.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('collections', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable().unique();
    t.text('description').nullable();
    t.text('embedding_model').notNullable();
    t.integer('dimensions').notNullable();
    // Bumped whenever the searchable content changes; cached answers key on it.
    t.bigInteger('index_version').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('documents', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    // Insertion order for keyset pagination; uuids have no useful order.
    t.bigIncrements('seq', { primaryKey: false });
    t.uuid('collection_id')
      .notNullable()
      .references('id')
      .inTable('collections')
      .onDelete('CASCADE');
    t.text('source').notNullable();
    t.text('title').nullable();
    t.text('media_type').notNullable();
    // Kept so any job can re-run from the database alone.
    t.text('content').notNullable();
    t.text('content_hash').notNullable();
    t.integer('size_bytes').notNullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.text('status').notNullable().defaultTo('queued');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error').nullable();
    t.integer('chunk_count').notNullable().defaultTo(0);
    t.timestamp('accepted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('indexed_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['collection_id', 'source']);
    t.index(['collection_id', 'status', 'seq']);
    t.index(['collection_id', 'seq']);
    t.check(
      "?? in ('queued', 'indexing', 'indexed', 'failed', 'dead')",
      ['status'],
      'documents_status_check',
    );
    t.check("?? in ('text/markdown', 'text/plain')", ['media_type'], 'documents_media_type_check');
  });

  await knex.schema.createTable('chunks', (t) => {
    // Deterministic id from the chunker; the same id keys the chunk's vector.
    t.uuid('id').primary();
    t.uuid('document_id').notNullable().references('id').inTable('documents').onDelete('CASCADE');
    t.uuid('collection_id').notNullable();
    t.integer('ordinal').notNullable();
    t.text('text').notNullable();
    t.specificType('heading_path', 'text[]').notNullable().defaultTo('{}');
    t.integer('start_offset').notNullable();
    t.integer('end_offset').notNullable();
    t.index(['document_id', 'ordinal']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('chunks');
  await knex.schema.dropTable('documents');
  await knex.schema.dropTable('collections');
}
