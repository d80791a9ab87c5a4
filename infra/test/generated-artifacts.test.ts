import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { receiverSecretsDir } from '../../catalog/alerting/receiver-secrets';
import { loadGeneratedArtifacts } from '../observability/generated-artifacts';
import { fixtureRoot, repoRoot } from './support/stack-under-mocks';

describe('infra generated monitoring artifacts', () => {
  it('reads rule files, dashboards and the Alertmanager config, shipping the config unchanged', () => {
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

  it('the committed Alertmanager config reads every credential from the receivers Secret mount', () => {
    const a = loadGeneratedArtifacts(repoRoot);
    const text = readFileSync(path.join(repoRoot, 'alerts/generated/alertmanager.yaml'), 'utf8');
    const files = [...text.matchAll(/_file: (\S+)/g)].map((m) => m[1]);
    assert.ok(files.length >= 3, `expected the receivers' secret files, found ${files.length}`);
    for (const f of files) assert.equal(path.posix.dirname(f), receiverSecretsDir, f);
    assert.deepEqual(
      a.receiverSecretFiles,
      [...new Set(files.map((f) => path.posix.basename(f)))].sort(),
    );
  });

  it('refuses a config reading a secret file outside the mount (a stale generation)', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'infra-stale-'));
    cpSync(fixtureRoot, root, { recursive: true });
    const am = path.join(root, 'alerts/generated/alertmanager.yaml');
    writeFileSync(
      am,
      readFileSync(am, 'utf8').replace(
        `${receiverSecretsDir}/slack-webhook-url`,
        '/etc/alertmanager/secrets/slack-webhook-url',
      ),
    );
    assert.throws(
      () => loadGeneratedArtifacts(root),
      /outside the receivers Secret mount.*npm run gen/,
    );
  });

  it('fails with the command to run when nothing was generated', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'infra-empty-'));
    assert.throws(() => loadGeneratedArtifacts(empty), /npm run gen/);
  });
});
