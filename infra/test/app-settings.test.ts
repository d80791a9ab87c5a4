import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { serviceIdentity } from '../../catalog/service-identity';
import { loadConfig } from '../../app/src/config';
import { apiKeyPepper } from '../../app/src/security/api-key-format';
import { parseKeyBundle } from '../../app/src/security/jwt/key-bundle';
import { buildKeyRing, importSigningKey } from '../../app/src/security/jwt/signing-keys';
import { parseDatabaseLogin } from '../../app/src/stores/postgres/database-credentials';
import { serviceSettingNames } from '../../catalog/service-settings';
import {
  jwtSigningKeysTemplate,
  operatorSecretTemplate,
  vaultAppRole,
  vaultOperatorSecretPath,
} from '../components/vault';
import { vaultStaticSecretRenderInterval } from '../components/rag-app';
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
const pem = () =>
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
/** What operators write to Vault's `secret/rag-api/keys` (runbooks/procedures/secret-rotation.md). */
const operatorSecrets: Record<string, string> = {
  API_KEY_PEPPER: 'p'.repeat(48),
  // Mid-rotation: the new key is published, the old one still signs.
  'jwt-2026-12-01.pem': pem(),
  'jwt-2027-01-01.pem': pem(),
  'jwt-signing-kid': '2026-12-01',
};
/** Operators' settings rendered as one field each (operatorSecretTemplate). */
const operatorFields = ['API_KEY_PEPPER'];

/**
 * A stand-in for Vault's HTTP API serving the operators' KV v2 secret as Vault answers it: the
 * mount lookup consul-template makes to learn the secret engine's version, then the read of
 * `secret/data/rag-api/keys` (`{data: {data, metadata}}`).
 */
async function startVaultStandIn(): Promise<{ address: string; server: Server }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.headers['x-vault-token'] !== 'stand-in-token') {
      res.statusCode = 403;
      return res.end(JSON.stringify({ errors: ['permission denied'] }));
    }
    if (req.url === `/v1/sys/internal/ui/mounts/${vaultOperatorSecretPath}`)
      return res.end(
        JSON.stringify({ data: { path: 'secret/', type: 'kv', options: { version: '2' } } }),
      );
    if (req.url === `/v1/${vaultOperatorSecretPath}`)
      return res.end(
        JSON.stringify({
          lease_id: '',
          renewable: false,
          lease_duration: 0,
          data: {
            data: operatorSecrets,
            metadata: { created_time: '2026-12-01T00:00:00Z', deletion_time: '', version: 4 },
          },
        }),
      );
    res.statusCode = 404;
    res.end(JSON.stringify({ errors: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * Renders a template with consul-template (scripts/tools/consul-template.sh), the library Vault
 * Agent renders templates with, against the stand-in: the real functions, the real KV v2 handling.
 */
async function renderWithConsulTemplate(template: string, vaultAddress: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'consul-template-'));
  try {
    writeFileSync(path.join(dir, 'in.tpl'), template);
    await promisify(execFile)(
      'consul-template',
      [
        '-once',
        `-vault-addr=${vaultAddress}`,
        '-vault-token=stand-in-token',
        '-vault-renew-token=false',
        '-vault-retry=false',
        '-log-level=err',
        `-template=${path.join(dir, 'in.tpl')}:${path.join(dir, 'out')}`,
      ],
      { timeout: 30_000 },
    ).catch((err: Error) => {
      throw new Error(`consul-template (run scripts/ensure-tools.sh): ${err.message}`);
    });
    return readFileSync(path.join(dir, 'out'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
            if (setting === 'JWT_SIGNING_KEYS') {
              assert.equal(body, jwtSigningKeysTemplate(), `${workload}: ${name}`);
              continue;
            }
            assert.equal(body, operatorSecretTemplate(setting), `${workload}: ${name}`);
            assert.ok(operatorFields.includes(setting), `${setting} is not an operators' secret`);
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
        // A change of the operators' secret (a signing key) is read within a minute, not five.
        assert.equal(
          template.metadata.annotations[
            'vault.hashicorp.com/template-static-secret-render-interval'
          ],
          migrate ? undefined : vaultStaticSecretRenderInterval,
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

    it('lets the API and worker pods read every Vault path their Agent renders from (the rag-api policy)', () => {
      const policy = run
        .ofType('vault:index/policy:Policy')
        .find((p) => p.inputs.name === vaultAppRole)!.inputs.policy as string;
      for (const { workload, template } of containers.filter(
        (c) => !c.workload.endsWith('-migrate'),
      )) {
        assert.equal(template.metadata.annotations['vault.hashicorp.com/role'], vaultAppRole);
        const sources = Object.entries(template.metadata.annotations as Record<string, string>)
          .filter(([key]) => key.startsWith('vault.hashicorp.com/agent-inject-secret-'))
          .map(([, source]) => source);
        assert.ok(sources.includes(vaultOperatorSecretPath), `${workload}: the signing keys' path`);
        for (const source of sources)
          assert.ok(
            policy.includes(`path "${source}" {\n  capabilities = ["read"]\n}`),
            `${workload}: the ${vaultAppRole} policy cannot read ${source}`,
          );
      }
    });

    it("loads with the service's own loadConfig, as Vault Agent would render it", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'vault-agent-'));
      const vault = await startVaultStandIn();
      const renderedBodies = new Map<string, string>();
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
            if (setting !== key && body.includes(`with secret "${vaultOperatorSecretPath}"`)) {
              if (!renderedBodies.has(body))
                renderedBodies.set(body, await renderWithConsulTemplate(body, vault.address));
              if (body !== operatorSecretTemplate(setting))
                writeFileSync(path.join(podDir, setting), renderedBodies.get(body)!);
              else assert.equal(renderedBodies.get(body), operatorSecrets[setting], setting);
            }
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
            // Every key of the secret, the kid it names signing, and nothing else of the secret.
            assert.ok(config.JWT_SIGNING_KEYS_FILE, `${workload}: no signing keys`);
            const bundle = readFileSync(config.JWT_SIGNING_KEYS_FILE, 'utf8');
            assert.ok(!bundle.includes(operatorSecrets.API_KEY_PEPPER), 'the pepper stays out');
            const material = parseKeyBundle(bundle);
            const ring = buildKeyRing(
              await Promise.all(material.files.map(importSigningKey)),
              material.signingKid,
            );
            assert.deepEqual([...ring.keys.keys()], ['2026-12-01', '2027-01-01'], workload);
            assert.equal(ring.signing.kid, operatorSecrets['jwt-signing-kid'], workload);
          }
          assert.equal(config.REDIS_URL, vaultSettings.REDIS_URL);
          assert.equal(config.QDRANT_API_KEY, vaultSettings.QDRANT_API_KEY);
          assert.ok(config.QDRANT_URL, 'the service uses Qdrant, not its in-process index');
          if (!workload.endsWith('-migrate'))
            assert.ok(config.DATABASE_REPLICA_URLS.length >= 1, 'replicas are read');
          assert.equal(config.SERVICE_NAME, serviceIdentity.service);
        }
      } finally {
        vault.server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
