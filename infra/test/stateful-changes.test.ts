import assert from 'node:assert/strict';
import { renderWarning, statefulChanges } from '../scripts/stateful-changes';

const urn = (type: string, name: string) =>
  `urn:pulumi:production::rag-platform::rag-platform:postgres:RdsPostgres$${type}::${name}`;

describe('infra stateful change callout', () => {
  it('flags replaces and deletes of data-holding resources only', () => {
    const changes = statefulChanges([
      { op: 'replace', urn: urn('aws:rds/instance:Instance', 'rag-production-postgres') },
      {
        op: 'create-replacement',
        urn: urn('aws:rds/instance:Instance', 'rag-production-postgres'),
      },
      { op: 'delete', urn: urn('kubernetes:helm.sh/v3:Release', 'vault') },
      { op: 'update', urn: urn('aws:elasticache/replicationGroup:ReplicationGroup', 'redis') },
      { op: 'replace', urn: urn('kubernetes:batch/v1:Job', 'rag-app-migrate') },
      { op: 'delete', urn: urn('kubernetes:helm.sh/v3:Release', 'ingress') },
    ]);
    assert.deepEqual(changes, [
      { op: 'replace', type: 'aws:rds/instance:Instance', name: 'rag-production-postgres' },
      { op: 'delete', type: 'kubernetes:helm.sh/v3:Release', name: 'vault' },
    ]);
    const text = renderWarning('production', changes);
    assert.match(text, /CAUTION/);
    assert.match(text, /\*\*REPLACE\*\* \| `aws:rds\/instance:Instance`/);
  });

  it('says nothing when nothing stateful changes', () => {
    assert.equal(
      renderWarning(
        'staging',
        statefulChanges([{ op: 'update', urn: urn('aws:rds/instance:Instance', 'db') }]),
      ),
      '',
    );
  });
});
