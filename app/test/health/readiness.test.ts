import assert from 'node:assert/strict';
import type { DependencyState } from '../../src/health/dependency-states';
import { decideReadiness } from '../../src/health/readiness';

// The readiness rule, dependency by dependency (the outages themselves run against real servers
// in dependency-state.test.ts and http/degradation.test.ts).

const up = { state: 'up' as DependencyState };
const degraded = { state: 'degraded' as DependencyState };
const down = { state: 'down' as DependencyState };

describe('readiness rule', () => {
  it('is ready only when every dependency is up', () => {
    assert.equal(decideReadiness({ postgres_primary: up, redis: up }, []).status, 'ready');
  });

  it('stays in rotation, degraded, for a primary outage while a replica serves reads', () => {
    assert.equal(
      decideReadiness({ postgres_primary: down, postgres_replica: up }, []).status,
      'degraded',
    );
    assert.equal(
      decideReadiness({ postgres_primary: down, postgres_replica: degraded }, []).status,
      'degraded',
    );
  });

  it('leaves rotation when no database can serve reads', () => {
    assert.equal(decideReadiness({ postgres_primary: down }, []).status, 'down');
    assert.equal(
      decideReadiness({ postgres_primary: down, postgres_replica: down }, []).status,
      'down',
    );
  });

  for (const name of ['postgres_replica', 'redis', 'vector_store', 'embedder', 'chat'] as const) {
    it(`degrades, never leaves rotation, for ${name} down`, () => {
      assert.equal(decideReadiness({ postgres_primary: up, [name]: down }, []).status, 'degraded');
    });
  }

  it('leaves rotation for what only this pod suffers (e.g. its in-process index rebuilding)', () => {
    const r = decideReadiness({ postgres_primary: up, vector_store: down }, ['index rebuilding']);
    assert.deepEqual(r, { status: 'down', reasons: ['index rebuilding'] });
  });
});
