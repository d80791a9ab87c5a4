import assert from 'node:assert/strict';
import { labelValues, metrics } from '../../catalog/metrics/metric-catalog';
import { analyzeQuery } from '../../catalog/promql/query-analysis';
import { allAlerts } from '../src/render/rule-files';

// Every dependency the service health-checks has a cause alert: when one is down, on-call is told
// which, instead of reading it off the symptoms (or, for a degraded one like chat, not at all).

/** The dependencies an alert judges down from the service's own health checks. */
function dependenciesAlertedOn(): Map<string, string> {
  const covered = new Map<string, string>();
  for (const a of allAlerts()) {
    for (const m of analyzeQuery(a.expr).metrics) {
      if (m.name !== metrics.dependencyUp.name) continue;
      for (const x of m.matchers)
        if (x.label === 'dependency' && x.op === '=') covered.set(x.value, a.alert);
    }
  }
  return covered;
}

describe('dependency-down alerts', () => {
  it('cover every dependency the service checks', () => {
    const covered = dependenciesAlertedOn();
    const missing = labelValues.dependency.filter((d) => !covered.has(d));
    assert.deepEqual(missing, [], `no cause alert for ${missing.join(', ')}`);
  });

  it('name the embedder and the chat endpoint explicitly', () => {
    const covered = dependenciesAlertedOn();
    assert.equal(covered.get('embedder'), 'EmbedderDown');
    assert.equal(covered.get('chat'), 'ChatEndpointDown');
  });
});
