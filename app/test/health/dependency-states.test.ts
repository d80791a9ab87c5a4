import assert from 'node:assert/strict';
import { DependencyStates, type ProbeResult } from '../../src/health/dependency-states';
import { createLogger } from '../../src/observability/logger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';

// The owner's own rules, with probes that answer what the test says: real outages are in
// dependency-state.test.ts.

async function gauge(metrics: Metrics, dependency: string): Promise<number | undefined> {
  const { values } = await metrics.dependencyUp.get();
  return values.find((v) => v.labels.dependency === dependency)?.value;
}

function owner(failureHoldMs: number) {
  const metrics = createMetrics();
  const states = new DependencyStates(metrics, createLogger({ level: 'silent', service: 't' }), {
    intervalMs: 60_000,
    timeoutMs: 1_000,
    failureHoldMs,
  });
  return { metrics, states };
}

describe('DependencyStates', () => {
  const chatProbe = (result: ProbeResult) => ({ name: 'chat' as const, probe: async () => result });

  it('keeps a dependency down while real calls fail, although its probe passes', async () => {
    const { metrics, states } = owner(60_000);
    await states.start([chatProbe({ state: 'up' })]);
    assert.equal(await gauge(metrics, 'chat'), 1);
    states.reportFailure('chat', new Error('POST /chat/completions answered 500'));
    assert.equal(await gauge(metrics, 'chat'), 0);
    await states.refresh();
    assert.equal(states.current().dependencies.chat?.state, 'down');
    assert.equal(await gauge(metrics, 'chat'), 0, 'a passing probe does not flip it back');
    states.stop();
  });

  it('lets a passing probe bring it back once the failures stop', async () => {
    const { metrics, states } = owner(0);
    await states.start([chatProbe({ state: 'up' })]);
    states.reportFailure('chat', new Error('boom'));
    await states.refresh();
    assert.equal(await gauge(metrics, 'chat'), 1);
    assert.equal(states.current().status, 'ready');
    states.stop();
  });

  it('ignores failures of a dependency this deployment does not use', async () => {
    const { metrics, states } = owner(60_000);
    await states.start([chatProbe({ state: 'up' })]);
    states.reportFailure('embedder', new Error('local embedder bug'));
    assert.equal(await gauge(metrics, 'embedder'), undefined);
    assert.equal(states.current().dependencies.embedder, undefined);
    states.stop();
  });

  it('counts a probe without an answer as down, and a degraded dependency as 0', async () => {
    const { metrics, states } = owner(0);
    await states.start([
      { name: 'redis', probe: () => new Promise<ProbeResult>(() => undefined) },
      { name: 'postgres_replica', probe: async () => ({ state: 'degraded' }) },
    ]);
    assert.equal(states.current().dependencies.redis?.state, 'down');
    assert.equal(await gauge(metrics, 'redis'), 0);
    assert.equal(await gauge(metrics, 'postgres_replica'), 0);
    assert.equal(states.current().status, 'degraded');
    states.stop();
  });
});
