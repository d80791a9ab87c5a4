import assert from 'node:assert/strict';
import { substitute } from '../commands/local-commands';

// How a runbook command becomes one the local stack can run (the live run is in fire-drills.test.ts).

const stack = {
  serviceUrl: 'http://127.0.0.1:1001',
  prometheusUrl: 'http://127.0.0.1:1002',
  alertmanagerUrl: 'http://127.0.0.1:1003',
  services: { redisPort: 1004, replicaPort: 1005 } as never,
};

describe('runbook commands on the local stack: substitutions', () => {
  const sub = (text: string, values: Record<string, string> = {}) =>
    substitute(text, stack, values);

  it('points port-forwarded endpoints at the local service, Prometheus and Alertmanager', () => {
    assert.deepEqual(sub('curl -s http://localhost:8080/v1/collections | jq -r .items'), {
      command: 'curl --fail-with-body -s http://127.0.0.1:1001/v1/collections | jq -r .items',
    });
    assert.deepEqual(sub('amtool --alertmanager.url=http://localhost:9093 alert query'), {
      command: 'amtool --alertmanager.url=http://127.0.0.1:1003 alert query',
    });
    assert.deepEqual(sub('curl -s http://localhost:9090/api/v1/alertmanagers'), {
      command: 'curl --fail-with-body -s http://127.0.0.1:1002/api/v1/alertmanagers',
    });
    // The service's internal port has Prometheus's number; its paths are the service's.
    assert.deepEqual(sub('curl -s http://localhost:9090/readyz'), {
      command: 'curl --fail-with-body -s http://127.0.0.1:1001/readyz',
    });
  });

  it('runs datastore clients from pods here, on the local servers', () => {
    assert.deepEqual(sub('kubectl -n rag exec -it redis-0 -- redis-cli info memory'), {
      command: 'redis-cli -h 127.0.0.1 -p 1004 info memory',
    });
    assert.deepEqual(sub('kubectl -n rag exec deploy/x -- psql -c "select 1"'), {
      command: 'psql -c "select 1"',
    });
  });

  it('fills the placeholders it has values for and skips the rest', () => {
    assert.deepEqual(
      sub('curl -s -X POST http://localhost:8080/v1/collections/<collectionId>/x', {
        '<collectionId>': 'c1',
      }),
      {
        command: 'curl --fail-with-body -s -X POST http://127.0.0.1:1001/v1/collections/c1/x',
      },
    );
    assert.ok('skip' in sub('curl -s http://localhost:8080/v1/collections/<nope>'));
  });

  it('skips what cannot run here', () => {
    for (const text of [
      'kubectl -n rag get pods',
      'pulumi up --stack staging',
      'curl -s -H "api-key: $QDRANT_API_KEY" http://localhost:6333/collections',
      'psql',
      'amtool alert query',
      'curl -s http://grafana.rag.internal/api/health',
    ]) {
      assert.ok('skip' in sub(text), text);
    }
  });
});
