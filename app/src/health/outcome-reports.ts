import { DependencyUnavailableError, DomainError, type DependencyName } from '../domain/errors';
import type { Answerer } from '../rag/answering/answerer';
import type { Embedder } from '../rag/embedding/embedder';
import type { VectorStore } from '../stores/vector/vector-store';

// Adapters report the failures they see while serving traffic to the state owner, so a dependency
// that passes its probe but fails real calls (or fails between two probes) is seen at once. The
// adapters stay unaware of it: these wrappers sit between them and their callers, built in
// service.ts.

export interface FailureSink {
  reportFailure(dependency: DependencyName, error: unknown): void;
}

/**
 * Whether `err` says the dependency failed, as opposed to the caller: bad input (domain errors
 * other than unavailability, range errors for wrong vector sizes) and a caller's own cancellation
 * say nothing about the dependency.
 */
function dependencyFailed(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return false;
  if (err instanceof DependencyUnavailableError) return true;
  return !(err instanceof DomainError) && !(err instanceof RangeError);
}

async function reported<T>(
  sink: FailureSink,
  dependency: DependencyName,
  call: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (dependencyFailed(err, signal)) {
      sink.reportFailure(
        err instanceof DependencyUnavailableError ? err.dependency : dependency,
        err,
      );
    }
    throw err;
  }
}

export function reportingVectorStore(store: VectorStore, sink: FailureSink): VectorStore {
  const dep = 'vector_store';
  return {
    kind: store.kind,
    ensureReady: () => reported(sink, dep, () => store.ensureReady()),
    upsert: (points) => reported(sink, dep, () => store.upsert(points)),
    search: (request) => reported(sink, dep, () => store.search(request)),
    deleteDocument: (collectionId, documentId, keepIds) =>
      reported(sink, dep, () => store.deleteDocument(collectionId, documentId, keepIds)),
    deleteCollection: (collectionId) =>
      reported(sink, dep, () => store.deleteCollection(collectionId)),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

export function reportingEmbedder(embedder: Embedder, sink: FailureSink): Embedder {
  return {
    model: embedder.model,
    dimensions: embedder.dimensions,
    embed: (texts, signal) =>
      reported(sink, 'embedder', () => embedder.embed(texts, signal), signal),
  };
}

export function reportingAnswerer(answerer: Answerer, sink: FailureSink): Answerer {
  return {
    kind: answerer.kind,
    answer: (input, signal) => reported(sink, 'chat', () => answerer.answer(input, signal), signal),
  };
}
