import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadGeneratedArtifacts, receiverSecretsDir } from '../observability/generated-artifacts';
import { fixtureRoot } from './support/stack-under-mocks';

describe('infra generated monitoring artifacts', () => {
  it('reads rule files, dashboards and the Alertmanager config, pointing secret files at the mount', () => {
    const a = loadGeneratedArtifacts(fixtureRoot);
    assert.deepEqual(
      a.ruleFiles.map((r) => r.name),
      ['slo'],
    );
    assert.deepEqual(
      a.dashboards.map((d) => d.name),
      ['rag-overview'],
    );
    assert.deepEqual(a.receiverSecretFiles, ['pagerduty-routing-key', 'slack-webhook-url']);
    const receivers = a.alertmanagerConfig.receivers as {
      slack_configs?: { api_url_file: string }[];
    }[];
    assert.equal(
      receivers[0].slack_configs![0].api_url_file,
      `${receiverSecretsDir}/slack-webhook-url`,
    );
  });

  it('fails with the command to run when nothing was generated', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'infra-empty-'));
    assert.throws(() => loadGeneratedArtifacts(empty), /npm run gen/);
  });
});
