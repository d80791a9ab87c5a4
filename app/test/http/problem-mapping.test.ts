import assert from 'node:assert/strict';
import {
  ConflictError,
  DependencyUnavailableError,
  InvalidInputError,
  NotFoundError,
} from '../../src/domain/errors';
import { fromDomainError } from '../../src/http/problem';

// The one place domain failures become HTTP: each kind has its status and stable problem type, and
// a dependency problem names the kind of dependency, never the driver's message.

describe('domain errors → problems', () => {
  it('maps each kind to its status and type', () => {
    const cases = [
      [new NotFoundError('collection', 'docs'), 404, 'not-found'],
      [new ConflictError('collection "docs" already exists'), 409, 'conflict'],
      [new InvalidInputError('invalid pagination cursor'), 400, 'invalid-input'],
      [
        new DependencyUnavailableError('vector_store', 'fetch failed: ECONNREFUSED 10.0.0.7:6333'),
        503,
        'dependency-unavailable',
      ],
    ] as const;
    for (const [err, status, slug] of cases) {
      const body = fromDomainError(err)?.body();
      assert.equal(body?.status, status, err.name);
      assert.equal(body?.type, `urn:rag-platform:problem:${slug}`, err.name);
    }
  });

  it('names the dependency without leaking its address', () => {
    const body = fromDomainError(
      new DependencyUnavailableError('postgres_primary', 'connect ECONNREFUSED 10.0.0.5:5432'),
    )?.body();
    assert.equal(body?.dependency, 'postgres_primary');
    assert.doesNotMatch(JSON.stringify(body), /10\.0\.0\.5|ECONNREFUSED/);
  });
});
