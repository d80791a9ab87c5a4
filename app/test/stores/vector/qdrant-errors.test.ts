import assert from 'node:assert/strict';
import { DependencyUnavailableError, InvalidInputError } from '../../../src/domain/errors';
import {
  VectorStoreRequestRejectedError,
  isCollectionMissing,
  qdrantFailure,
} from '../../../src/stores/vector/qdrant-errors';
import { freePort } from '../../support/service-process';

/** The shape of @qdrant/openapi-typescript-fetch's ApiError: Qdrant's status and JSON body. */
function apiError(status: number, error: string): Error {
  return Object.assign(new Error('Bad Request'), {
    status,
    statusText: '',
    url: 'http://qdrant/collections/x/points/query',
    data: { status: { error }, time: 0 },
  });
}

describe('Qdrant failure classification', () => {
  it('unreachable (the real fetch failure), timeouts and rate limits are the vector store unavailable', async () => {
    const port = await freePort();
    const refused = await fetch(`http://127.0.0.1:${port}/`).then(
      () => assert.fail('connected to a closed port'),
      (e: unknown) => e,
    );
    const timeout = Object.assign(new Error('This operation was aborted'), {
      name: 'QdrantClientTimeoutError',
    });
    for (const err of [refused, timeout, apiError(429, 'Too many requests')]) {
      const mapped = qdrantFailure(err, 'search');
      assert.ok(mapped instanceof DependencyUnavailableError, String(err));
      assert.equal(mapped.dependency, 'vector_store');
      assert.equal(mapped.cause, err);
    }
  });

  it('5xx and refused credentials are the vector store unavailable, not the caller’s fault', () => {
    for (const status of [500, 502, 503, 504, 401, 403]) {
      const mapped = qdrantFailure(apiError(status, 'nope'), 'upsert');
      assert.ok(mapped instanceof DependencyUnavailableError, String(status));
      assert.match(mapped.message, new RegExp(`${status}.*upsert.*nope`));
    }
  });

  it('any other Qdrant 4xx is a rejected request of ours, carrying no HTTP status', () => {
    for (const status of [400, 404, 409, 422]) {
      const mapped = qdrantFailure(apiError(status, 'Wrong input: bad filter'), 'search');
      assert.ok(mapped instanceof VectorStoreRequestRejectedError, String(status));
      assert.equal(mapped.qdrantStatus, status);
      assert.equal((mapped as { status?: unknown }).status, undefined);
    }
  });

  it('passes through errors that are not the Qdrant client’s', () => {
    const domain = new InvalidInputError('bad key');
    const range = new RangeError('topK must be a positive integer');
    assert.equal(qdrantFailure(domain, 'search'), domain);
    assert.equal(qdrantFailure(range, 'search'), range);
    const unavailable = new DependencyUnavailableError('vector_store', 'down');
    assert.equal(qdrantFailure(unavailable, 'search'), unavailable);
  });

  it('recognizes Qdrant’s answer for a missing collection, and only that', () => {
    assert.ok(isCollectionMissing(apiError(404, "Not found: Collection `rag_m_4` doesn't exist!")));
    assert.ok(!isCollectionMissing(apiError(404, 'Not found: No point with id 7 found')));
    assert.ok(!isCollectionMissing(apiError(400, 'Collection `x` already exists!')));
    assert.ok(!isCollectionMissing(new TypeError('fetch failed')));
  });
});
