import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { serviceIdentity } from '../../catalog/service-identity';
import { loadConfig } from '../../app/src/config';
import { serviceSettingNames } from '../../catalog/service-settings';
import { infraOwnedSettings } from '../config/stack-config';
import { runStack, stacks, type StackRun } from './support/stack-under-mocks';

// Everything infra sets on the service's containers must be a setting the service reads
// (app/src/config.ts), and what Vault Agent renders must load. The Vault settings Secret captured
// under mocks is rendered into files the way the agent would, then the service's own loadConfig
// reads the container's environment: a renamed variable, a wrong *_FILE path or a URL the service
// rejects fails here.

const settingNames = new Set<string>(serviceSettingNames);
const agentDir = '/vault/secrets';

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
      vaultSettings = run
        .ofType('kubernetes:core/v1:Secret')
        .find((s) => s.inputs.metadata.name === `${serviceIdentity.service}-settings`)!.inputs
        .stringData;
    });

    it('names every variable after a setting of app/src/config.ts (NAME or NAME_FILE)', () => {
      assert.equal(containers.length, 3, 'API and ingestion worker Deployments, migration Job');
      for (const { workload, env } of containers)
        for (const { name } of env) {
          const setting = name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : name;
          assert.ok(settingNames.has(setting), `${workload}: ${name} is not read by the service`);
        }
    });

    it('points every NAME_FILE at the file Vault Agent renders from the KV the Job writes', () => {
      for (const { workload, env, template } of containers) {
        const files = env.filter((e) => e.name.endsWith('_FILE'));
        assert.ok(files.length >= 3, `${workload}: secrets come from Vault`);
        for (const { name, value } of files) {
          const setting = name.slice(0, -'_FILE'.length);
          assert.equal(value, `${agentDir}/${setting}`, `${workload}: ${name}`);
          const annotations = template.metadata.annotations;
          assert.ok(annotations[`vault.hashicorp.com/agent-inject-secret-${setting}`], name);
          assert.match(
            annotations[`vault.hashicorp.com/agent-inject-template-${setting}`],
            new RegExp(`\\.Data\\.data\\.${setting} `),
          );
          assert.ok(setting in vaultSettings, `${setting} is not written to Vault`);
        }
        assert.deepEqual(
          files.map((f) => f.name.slice(0, -'_FILE'.length)).sort(),
          Object.keys(vaultSettings).sort(),
          'every secret written to Vault is read',
        );
      }
    });

    it('sets as platform-owned exactly what it wires itself (stacks cannot override them)', () => {
      const fromStack = new Set(Object.keys(run.config.app.settings));
      for (const { env } of containers)
        for (const { name } of env) {
          const setting = name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : name;
          if (!fromStack.has(setting))
            assert.ok(infraOwnedSettings.has(setting), `${setting} must be in infraOwnedSettings`);
        }
      for (const s of infraOwnedSettings) assert.ok(settingNames.has(s), s);
    });

    it("loads with the service's own loadConfig, as Vault Agent would render it", () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'vault-agent-'));
      try {
        for (const [name, value] of Object.entries(vaultSettings))
          writeFileSync(path.join(dir, name), value);
        for (const { workload, env } of containers) {
          const rendered = Object.fromEntries(
            env.map((e) => [e.name, e.value.replace(agentDir, dir)]),
          );
          const config = loadConfig(rendered);
          assert.equal(config.NODE_ENV, 'production', workload);
          assert.equal(config.DATABASE_URL, vaultSettings.DATABASE_URL);
          assert.equal(config.REDIS_URL, vaultSettings.REDIS_URL);
          assert.equal(config.QDRANT_API_KEY, vaultSettings.QDRANT_API_KEY);
          assert.ok(config.QDRANT_URL, 'the service uses Qdrant, not its in-process index');
          assert.ok(config.DATABASE_REPLICA_URLS.length >= 1, 'replicas are read');
          assert.equal(config.SERVICE_NAME, serviceIdentity.service);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
