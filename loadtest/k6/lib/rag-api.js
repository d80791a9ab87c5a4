// The service's API as k6 calls it. Every request is tagged with its route template, the way the
// service labels its own metrics, so the SLO thresholds (selected by method and route) see exactly
// the requests the SLIs count, and URLs with ids do not explode into one series per document.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { baseUrl, defaultHeaders, uniqueCollectionId } from './target.js';

export const routes = {
  healthz: '/healthz',
  readyz: '/readyz',
  collections: '/v1/collections',
  collection: '/v1/collections/:collectionId',
  documents: '/v1/collections/:collectionId/documents',
  document: '/v1/collections/:collectionId/documents/:documentId',
  query: '/v1/query',
};

// A request unanswered after REQUEST_TIMEOUT (10 s) has failed every objective; k6's default
// (60 s) would only hold VUs that an overloaded run needs.
const timeout = __ENV.REQUEST_TIMEOUT || '10s';

// One params object per route, built once: k6 reads it on every request and never changes it.
const paramsByRoute = {};

function params(method, route) {
  const key = `${method} ${route}`;
  paramsByRoute[key] ??= { headers: defaultHeaders(), tags: { route, name: key }, timeout };
  return paramsByRoute[key];
}

function json(res) {
  try {
    return res.json();
  } catch {
    return undefined;
  }
}

export function checkHealth() {
  const live = http.get(`${baseUrl}${routes.healthz}`, params('GET', routes.healthz));
  const ready = http.get(`${baseUrl}${routes.readyz}`, params('GET', routes.readyz));
  return check(null, {
    'healthz: 200 ok': () => live.status === 200 && json(live)?.status === 'ok',
    // 'degraded' is ready: a non-critical dependency (replica, Redis) is down and requests degrade.
    'readyz: 200 ready': () =>
      ready.status === 200 && ['ready', 'degraded'].includes(json(ready)?.status),
  });
}

export function createCollection(id) {
  const res = http.post(
    `${baseUrl}${routes.collections}`,
    JSON.stringify({ id, description: 'k6 load test' }),
    params('POST', routes.collections),
  );
  const ok = check(res, {
    'create collection: 201': (r) => r.status === 201,
    'create collection: echoes the id': (r) => json(r)?.id === id,
  });
  if (!ok) throw new Error(`cannot create collection ${id}: ${res.status} ${res.body}`);
  return id;
}

export function deleteCollection(id) {
  const res = http.del(
    `${baseUrl}/v1/collections/${id}`,
    null,
    params('DELETE', routes.collection),
  );
  return check(res, { 'delete collection: 204': (r) => r.status === 204 });
}

/** POST a document; returns its id when accepted (202 created/replaced, 200 unchanged). */
export function ingestDocument(collection, document) {
  const res = http.post(
    `${baseUrl}/v1/collections/${collection}/documents`,
    JSON.stringify(document),
    params('POST', routes.documents),
  );
  const body = json(res);
  const ok = check(res, {
    'ingest: accepted (202, or 200 unchanged)': (r) => r.status === 202 || r.status === 200,
    'ingest: returns the document': () =>
      typeof body?.document?.id === 'string' && body.document.source === document.source,
  });
  return ok ? body.document.id : undefined;
}

export function documentStatus(collection, documentId) {
  const res = http.get(
    `${baseUrl}/v1/collections/${collection}/documents/${documentId}`,
    params('GET', routes.document),
  );
  check(res, { 'get document: 200': (r) => r.status === 200 });
  return json(res)?.status;
}

/** Polls until every document is indexed; false when one fails or the deadline passes. */
export function waitIndexed(collection, documentIds, timeoutSeconds) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let pending = [...documentIds];
  while (pending.length > 0 && Date.now() < deadline) {
    const statuses = pending.map((id) => [id, documentStatus(collection, id)]);
    if (statuses.some(([, status]) => status === 'dead')) break;
    pending = statuses.filter(([, status]) => status !== 'indexed').map(([id]) => id);
    if (pending.length > 0) sleep(0.25);
  }
  return check(null, { 'ingest: indexed in time': () => pending.length === 0 });
}

/**
 * The setup both runs share: a healthy service, a fresh collection, `count` documents from
 * `documentAt(n)` ingested and indexed. Throws (aborting the run) when any step fails.
 */
export function seedCollection(prefix, count, documentAt, timeoutSeconds) {
  if (!checkHealth()) throw new Error(`the service is not healthy; not starting the ${prefix} run`);
  const collection = createCollection(uniqueCollectionId(prefix));
  const ids = [];
  for (let n = 0; n < count; n++) ids.push(ingestDocument(collection, documentAt(n)));
  if (ids.includes(undefined) || !waitIndexed(collection, ids, timeoutSeconds)) {
    throw new Error(`seed documents of ${collection} were not indexed in time`);
  }
  return collection;
}

/** Polls until no document of the collection is queued or indexing (before deleting it). */
export function waitQueueDrained(collection, timeoutSeconds) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const busy = ['queued', 'indexing'].some((status) => {
      const res = http.get(
        `${baseUrl}/v1/collections/${collection}/documents?status=${status}&limit=1`,
        params('GET', routes.documents),
      );
      return res.status !== 200 || (json(res)?.items?.length ?? 1) > 0;
    });
    if (!busy) return true;
    if (Date.now() > deadline) return false;
    sleep(0.5);
  }
}

/** POST /v1/query; returns the parsed answer (or undefined) after checking its shape. */
export function query(collection, text, topK = 5) {
  const res = http.post(
    `${baseUrl}${routes.query}`,
    JSON.stringify({ collection, query: text, topK }),
    params('POST', routes.query),
  );
  const body = json(res);
  check(res, {
    'query: 200': (r) => r.status === 200,
    'query: answer with citations': () =>
      typeof body?.answer === 'string' &&
      body.answer.length > 0 &&
      Array.isArray(body.citations) &&
      body.citations.length > 0 &&
      body.citations.every((c) => typeof c.documentId === 'string' && c.score !== undefined),
  });
  return body;
}
