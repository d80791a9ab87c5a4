import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { serviceIdentity } from '../../catalog/service-identity';
import { loadConfig } from '../../app/src/config';
import { apiKeyPepper } from '../../app/src/security/api-key-format';
import { parseDatabaseLogin } from '../../app/src/stores/postgres/database-credentials';
import { serviceSettingNames } from '../../catalog/service-settings';
import { operatorSecretTemplate, vaultOperatorSecretPath } from '../components/vault';
import { infraOwnedSettings } from '../config/stack-config';
import { runStack, stacks, type StackRun } from './support/stack-under-mocks';

// Everything infra sets on the service's containers must be a setting the service reads
// (app/src/config.ts), and what Vault Agent renders must load. The KV secret the program writes to
// Vault and the leased database users' templates captured under mocks are rendered into files the
// way the agent would, then the service's own loadConfig reads the container's environment: a
// renamed variable, a wrong *_FILE path or a URL the service rejects fails here.

const settingNames = new Set<string>(serviceSettingNames);
const agentDir = '/vault/secrets';
const leasedUser = { username: 'v-kubernetes-rag-api-abc', password: 'A1a-leased-password' };
/** What operators write to Vault's `secret/rag-api/keys` (runbooks/procedures/secret-rotation.md). */
const operatorSecrets: Record<string, string> = { API_KEY_PEPPER: 'p'.repeat(48) };

/**
 * What Vault Agent writes for a template of a leased database user: the body of its one
 * `with secret` block with the lease's username and password (`.Data | toJSON`: the lease's data).
 */
function renderLeased(template: string): string {
  const m = /^\{\{- with secret "[^"]+" -\}\}(.*)\{\{- end -\}\}$/s.exec(template);
  assert.ok(m, `not a single with-secret block: ${template}`);
  return m[1]
    .replaceAll('{{ .Data | toJSON }}', JSON.stringify(leasedUser))
    .replaceAll('{{ .Data.username }}', leasedUser.username)
    .replaceAll('{{ .Data.password }}', leasedUser.password);
}

/** A variable names a setting itself (DATABASE_CREDENTIALS_FILE) or the file of one (NAME_FILE). */
const settingOf = (name: string) =>
  !settingNames.has(name) && name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : name;

for (const stackName of stacks) {
  describe(`infra sets only settings the service reads (${stackName})`, function () {
    this.timeout(60_000);
    let run: StackRun;
    let containers: { workload: string; template: any; env: { name: string; value: string }[] }[];
    let vaultSettings: Record<string, string>;
    before(async () => {
      run = await runStack(stackName);
      const templates = [
        // The service's own workloads (the exporters in the monitoring namespace read no settings).
        ...run
          .ofType('kubernetes:apps/v1:Deployment')
          .filter((d) => d.inputs.metadata.namespace === serviceIdentity.namespace),
        ...run.ofType('kubernetes:batch/v1:Job').filter((j) => j.name.endsWith('-migrate')),
      ].map((r) => ({ workload: r.name, template: r.inputs.spec.template }));
      containers = templates.map((t) => ({ ...t, env: t.template.spec.containers[0].env }));
      const kv = run.ofType('vault:kv/secretV2:SecretV2');
      assert.equal(kv.length, 1, 'one KV secret holds the static settings');
      assert.equal(kv[0].inputs.name, `${serviceIdentity.service}/config`);
      vaultSettings = JSON.parse(kv[0].inputs.dataJson);
    });

    it('names every variable after a setting of app/src/config.ts (NAME or NAME_FILE)', () => {
      assert.equal(containers.length, 3, 'API and ingestion worker Deployments, migration Job');
      for (const { workload, env } of containers)
        for (const { name } of env)
          assert.ok(
            settingNames.has(settingOf(name)),
            `${workload}: ${name} is not read by the service`,
          );
    });

    it('points every NAME_FILE at the file Vault Agent renders from KV or a leased user', () => {
      for (const { workload, env, template } of containers) {
        const files = env.filter((e) => e.name.endsWith('_FILE'));
        assert.ok(files.length >= 3, `${workload}: secrets come from Vault`);
        const fromKv: string[] = [];
        for (const { name, value } of files) {
          const setting = name.slice(0, -'_FILE'.length);
          assert.equal(value, `${agentDir}/${setting}`, `${workload}: ${name}`);
          const annotations = template.metadata.annotations;
          const source = annotations[`vault.hashicorp.com/agent-inject-secret-${setting}`];
          const body = annotations[`vault.hashicorp.com/agent-inject-template-${setting}`];
          if (source.startsWith('database/creds/')) {
            // A leased user never sits in KV: the database URLs are not static settings.
            assert.ok(!(setting in vaultSettings), `${setting} is both leased and in KV`);
            assert.ok(body.includes(`with secret "${source}"`), `${workload}: ${name}`);
            continue;
          }
          if (source === vaultOperatorSecretPath) {
            // Operators write these by hand; the program never holds them (nor its KV secret).
            assert.equal(body, operatorSecretTemplate(setting), `${workload}: ${name}`);
            assert.ok(setting in operatorSecrets, `${setting} is not an operators' secret`);
            continue;
          }
          assert.match(body, new RegExp(`\\.Data\\.data\\.${setting} `));
          assert.ok(setting in vaultSettings, `${setting} is not written to Vault`);
          fromKv.push(setting);
        }
        assert.deepEqual(
          fromKv.sort(),
          Object.keys(vaultSettings).sort(),
          'every secret written to Vault is read',
        );
      }
    });

    it('gives the service and the migrations database users of their own Vault roles', () => {
      const source = (template: any, setting: string) =>
        template.metadata.annotations[`vault.hashicorp.com/agent-inject-secret-${setting}`];
      for (const { workload, template } of containers) {
        const migrate = workload.endsWith('-migrate');
        const role = migrate ? 'rag-api-migrate' : 'rag-api';
        assert.equal(template.metadata.annotations['vault.hashicorp.com/role'], role, workload);
        // The serving pods' login is a file their Agent renders anew for every user, which the
        // service re-reads; the migration Job's is in its URL, rendered once.
        const leased = migrate ? 'DATABASE_URL' : 'DATABASE_CREDENTIALS';
        assert.equal(source(template, leased), `database/creds/${role}`, workload);
        assert.equal(
          template.spec.serviceAccountName,
          migrate ? 'rag-api-migrate' : serviceIdentity.serviceAccount,
          workload,
        );
        // The serving pods keep an Agent running to renew and replace their user; a Job's
        // sidecar would never exit.
        assert.equal(
          template.metadata.annotations['vault.hashicorp.com/agent-pre-populate-only'],
          String(migrate),
          workload,
        );
      }
    });

    it('sets as platform-owned exactly what it wires itself (stacks cannot override them)', () => {
      const fromStack = new Set(Object.keys(run.config.app.settings));
      for (const { env } of containers)
        for (const { name } of env) {
          const setting = settingOf(name);
          if (!fromStack.has(setting))
            assert.ok(infraOwnedSettings.has(setting), `${setting} must be in infraOwnedSettings`);
        }
      for (const s of infraOwnedSettings) assert.ok(settingNames.has(s), s);
    });

    it("loads with the service's own loadConfig, as Vault Agent would render it", () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'vault-agent-'));
      try {
        for (const { workload, env, template } of containers) {
          const podDir = mkdtempSync(path.join(dir, 'pod-'));
          for (const [name, value] of Object.entries(vaultSettings))
            writeFileSync(path.join(podDir, name), value);
          const annotations = template.metadata.annotations as Record<string, string>;
          for (const [key, body] of Object.entries(annotations)) {
            const setting = key.replace('vault.hashicorp.com/agent-inject-template-', '');
            if (setting !== key && body.includes('database/creds/'))
              writeFileSync(path.join(podDir, setting), renderLeased(body));
            if (setting !== key && body === operatorSecretTemplate(setting))
              writeFileSync(path.join(podDir, setting), operatorSecrets[setting]);
          }
          const rendered = Object.fromEntries(
            env.map((e) => [e.name, e.value.replace(agentDir, podDir)]),
          );
          const config = loadConfig(rendered);
          assert.equal(config.NODE_ENV, 'production', workload);
          const url = new URL(config.DATABASE_URL!);
          if (workload.endsWith('-migrate')) {
            assert.equal(decodeURIComponent(url.username), leasedUser.username, workload);
            assert.equal(decodeURIComponent(url.password), leasedUser.password, workload);
          } else {
            // The hosts only: the login comes from the file the service re-reads.
            for (const u of [config.DATABASE_URL!, ...config.DATABASE_REPLICA_URLS])
              assert.equal(new URL(u).username + new URL(u).password, '', `${workload}: ${u}`);
            assert.ok(config.DATABASE_CREDENTIALS_FILE, `${workload}: no credentials file`);
            assert.deepEqual(
              parseDatabaseLogin(readFileSync(config.DATABASE_CREDENTIALS_FILE, 'utf8')),
              { user: leasedUser.username, password: leasedUser.password },
              workload,
            );
            // Production refuses to start without the pepper.
            assert.equal(apiKeyPepper(config).toString(), operatorSecrets.API_KEY_PEPPER, workload);
          }
          assert.equal(config.REDIS_URL, vaultSettings.REDIS_URL);
          assert.equal(config.QDRANT_API_KEY, vaultSettings.QDRANT_API_KEY);
          assert.ok(config.QDRANT_URL, 'the service uses Qdrant, not its in-process index');
          if (!workload.endsWith('-migrate'))
            assert.ok(config.DATABASE_REPLICA_URLS.length >= 1, 'replicas are read');
          assert.equal(config.SERVICE_NAME, serviceIdentity.service);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
