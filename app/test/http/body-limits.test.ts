import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import {
  createCollectionBodyLimit,
  ingestBodyLimit,
  queryBodyLimit,
} from '../../src/http/body-limits';
import type { RunningService } from '../../src/service';
import { apiClient } from '../support/http-client';
import { eventually, startTestService, uniqueName } from '../support/test-service';
import { authHeaders } from '../support/test-credential';

/**
 * Sends the headers of a request announcing `length` bytes of JSON, and `body` if given; without
 * one, resolves with the response the server gives without waiting for a body never sent.
 */
function announceBody(
  url: string,
  method: string,
  path: string,
  length: number,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), {
      method,
      headers: {
        'content-type': 'application/json',
        'content-length': String(length),
        ...authHeaders(),
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    req.on('error', reject);
    if (body === undefined) req.flushHeaders();
    else req.end(body);
  });
}

describe('body limits per route', function () {
  this.timeout(60_000);
  let service: RunningService;
  let api: ReturnType<typeof apiClient>;
  const collection = uniqueName('limits');
  const maxDocumentBytes = 64 * 1024;
  // The longest JSON escape per character: the limits must still admit every valid body.
  const verbose = (n: number) => '\u0001'.repeat(n);

  before(async () => {
    service = await startTestService({ MAX_DOCUMENT_BYTES: String(maxDocumentBytes) });
    api = apiClient(service.url);
    const created = await api.post('/v1/collections', {
      id: collection,
      description: verbose(1000),
    });
    assert.equal(created.status, 201, 'a maximal collection body is accepted');
    await eventually(async () => (await api.get(`/v1/collections/${collection}`)).status === 200);
  });
  after(async () => {
    await api?.delete(`/v1/collections/${collection}`);
    await service?.close();
  });

  it('accepts a query with every field at its maximum, however it is escaped', async () => {
    const metadata: Record<string, string> = {};
    for (let i = 0; i < 32; i++) metadata[`k${i}`.padEnd(64, '_')] = verbose(512);
    const body = {
      collection,
      query: verbose(2000),
      topK: 50,
      filter: { documentIds: Array.from({ length: 100 }, () => randomUUID()), metadata },
    };
    assert.ok(JSON.stringify(body).length > 100_000, 'the body is larger than a typical query');
    const res = await api.post('/v1/query', body);
    assert.equal(res.status, 200, res.text);
  });

  it('refuses bodies over each route’s limit with 413 problem+json', async () => {
    const cases: [string, number][] = [
      ['/v1/query', queryBodyLimit],
      ['/v1/collections', createCollectionBodyLimit],
      [`/v1/collections/${collection}/documents`, ingestBodyLimit(maxDocumentBytes)],
    ];
    for (const [path, limit] of cases) {
      const res = await api.request('POST', path, undefined, {
        headers: { 'content-type': 'application/json' },
        rawBody: JSON.stringify({ query: 'x'.repeat(limit) }),
      });
      assert.equal(res.status, 413, `${path}: ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.type, 'urn:rag-platform:problem:payload-too-large');
    }
    // The query limit is far below the ingest limit: a megabyte is no longer read for a query.
    assert.ok(queryBodyLimit * 8 < ingestBodyLimit(1024 * 1024));
  });

  it('answers 413 from the announced length, before the body is sent', async () => {
    for (const [path, limit] of [
      ['/v1/query', queryBodyLimit],
      [`/v1/collections/${collection}/documents`, ingestBodyLimit(maxDocumentBytes)],
    ] as const) {
      const res = await announceBody(service.url, 'POST', path, limit + 1);
      assert.equal(res.status, 413, `${path}: ${res.body}`);
      assert.match(res.body, /payload-too-large/);
    }
  });

  it('refuses a body on operations that take none', async () => {
    const missing = randomUUID();
    for (const [method, path] of [
      ['GET', '/v1/collections'],
      ['GET', `/v1/collections/${collection}`],
      ['DELETE', `/v1/collections/${collection}/documents/${missing}`],
      ['POST', `/v1/collections/${collection}/documents/${missing}/retry`],
    ] as const) {
      const res = await announceBody(service.url, method, path, 2 * 1024 * 1024);
      assert.equal(res.status, 413, `${method} ${path}: ${res.body}`);
      const small = await announceBody(service.url, method, path, 2, '{}');
      assert.equal(small.status, 413, `${method} ${path}: ${small.body}`);
    }
    // Still there: the refused DELETE did nothing.
    assert.equal((await api.get(`/v1/collections/${collection}`)).status, 200);
  });
});
