import type { Database } from '../../stores/postgres/database';
import type { VectorStore } from '../../stores/vector/vector-store';
import type { Embedder } from '../embedding/embedder';

const batchSize = 512;

/**
 * The in-process index lives in memory, but the chunks it indexes are durable in Postgres: on
 * start-up it is rebuilt from every chunk of every indexed document, so a restart never makes
 * acknowledged documents unsearchable. Returns the number of chunks restored.
 */
export async function rehydrateVectorIndex(deps: {
  db: Database;
  embedder: Embedder;
  vectors: VectorStore;
}): Promise<number> {
  const { db, embedder, vectors } = deps;
  let after = '00000000-0000-0000-0000-000000000000';
  let restored = 0;
  for (;;) {
    const rows: {
      id: string;
      document_id: string;
      collection_id: string;
      text: string;
      metadata: Record<string, string>;
    }[] = await db
      .primary('chunks as c')
      .join('documents as d', 'd.id', 'c.document_id')
      .join('collections as col', 'col.id', 'c.collection_id')
      .where('d.status', 'indexed')
      .andWhere('col.embedding_model', embedder.model)
      .andWhere('c.id', '>', after)
      .orderBy('c.id')
      .limit(batchSize)
      .select('c.id', 'c.document_id', 'c.collection_id', 'c.text', 'd.metadata');
    if (rows.length === 0) return restored;
    const embedded = await embedder.embed(rows.map((r) => r.text));
    await vectors.upsert(
      rows.map((r, i) => ({
        id: r.id,
        vector: embedded[i],
        payload: { collectionId: r.collection_id, documentId: r.document_id, metadata: r.metadata },
      })),
    );
    restored += rows.length;
    after = rows[rows.length - 1].id;
  }
}
