import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../observability/logger';
import { ConflictError } from '../../domain/errors';
import type { Principal } from '../../domain/principal';
import type { CollectionUseCases } from '../../use-cases/collections';
import type { DocumentUseCases } from '../../use-cases/documents';

export const demoCollection = 'runbooks';

/**
 * Ingests the repo's runbooks into the `runbooks` collection through the normal ingest path
 * (document rows + durable jobs), so a fresh embedded start can answer on-call questions with
 * runbook citations. Re-running is cheap: unchanged files are recognised by content hash.
 */
export async function seedDemoCorpus(deps: {
  dir: string;
  /** Who seeds: the service's own principal (use-cases/collection-access.ts). */
  principal: Principal;
  collections: CollectionUseCases;
  documents: DocumentUseCases;
  maxDocumentBytes: number;
  logger: Logger;
}): Promise<{ files: number; queued: number }> {
  const { dir, principal, collections, documents, logger } = deps;
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
  // Another replica of the service may be seeding at the same time: whoever creates it, it exists.
  await collections
    .create(principal, {
      id: demoCollection,
      description: 'On-call runbooks of this repository (demo corpus).',
    })
    .catch((err: unknown) => {
      if (!(err instanceof ConflictError)) throw err;
    });

  let queued = 0;
  for (const name of names) {
    const content = await readFile(path.join(dir, ...name.split('/')), 'utf8');
    if (!content.trim() || Buffer.byteLength(content) > deps.maxDocumentBytes) continue;
    const title = /^#\s+(.+)$/m.exec(content)?.[1]?.trim() ?? path.basename(name, '.md');
    const { outcome } = await documents.ingest(principal, demoCollection, {
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
