import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../observability/logger';
import type { CollectionsRepository } from '../../stores/postgres/collections-repository';
import type { DocumentsRepository } from '../../stores/postgres/documents-repository';
import type { Embedder } from '../embedding/embedder';

export const demoCollection = 'runbooks';

/**
 * Ingests the repo's runbooks into the `runbooks` collection through the normal ingest path
 * (document rows + durable jobs), so a fresh embedded start can answer on-call questions with
 * runbook citations. Re-running is cheap: unchanged files are recognised by content hash.
 */
export async function seedDemoCorpus(deps: {
  dir: string;
  collections: CollectionsRepository;
  documents: DocumentsRepository;
  embedder: Embedder;
  maxDocumentBytes: number;
  logger: Logger;
}): Promise<{ files: number; queued: number }> {
  const { dir, collections, documents, embedder, logger } = deps;
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true }))
      .filter((n) => n.endsWith('.md'))
      .map((n) => n.split(path.sep).join('/'))
      .sort();
  } catch (err) {
    logger.warn('demo corpus directory not readable; skipping seeding', { dir, err });
    return { files: 0, queued: 0 };
  }
  const collection =
    (await collections.getByName(demoCollection, { fromPrimary: true })) ??
    (await collections.create({
      name: demoCollection,
      description: 'On-call runbooks of this repository (demo corpus).',
      embeddingModel: embedder.model,
      dimensions: embedder.dimensions,
    })) ??
    (await collections.getByName(demoCollection, { fromPrimary: true }));
  if (!collection) throw new Error('demo collection could not be created');

  let queued = 0;
  for (const name of names) {
    const content = await readFile(path.join(dir, ...name.split('/')), 'utf8');
    if (!content.trim() || Buffer.byteLength(content) > deps.maxDocumentBytes) continue;
    const title = /^#\s+(.+)$/m.exec(content)?.[1]?.trim() ?? path.basename(name, '.md');
    const { outcome } = await documents.ingest(collection.id, {
      source: `${path.basename(dir)}/${name}`,
      title,
      mediaType: 'text/markdown',
      content,
      metadata: { kind: 'runbook' },
    });
    if (outcome !== 'unchanged') queued += 1;
  }
  logger.info('demo corpus seeded', { collection: demoCollection, files: names.length, queued });
  return { files: names.length, queued };
}
