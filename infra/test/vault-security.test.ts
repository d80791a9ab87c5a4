import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loginCreationStatements, loginRevocationStatements } from '../../catalog/database-roles';
import { serviceIdentity } from '../../catalog/service-identity';
import {
  vaultAddress,
  vaultAuditLog,
  vaultDeployerPolicy,
  vaultDeployerPolicyFile,
  vaultDeployerServiceAccount,
  vaultTlsSecret,
} from '../components/vault';
import { repoRoot, runStack, stacks, type StackRun } from './support/stack-under-mocks';

// Vault as the security review asked for it, on every stack: TLS on every listener with a
// certificate cert-manager issues and clients that verify it; no root or admin token anywhere in
// what the program declares (the provider takes its token from the deploying environment); audit
// devices on; the database secrets engine issuing the service's and the migrations' users inside
// their group roles, short-lived; each workload's policy reads exactly its own paths.

const tokenSecret = 'vault-admin-token';

/** Every string anywhere in a value, for "nothing mentions X" checks. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

for (const stack of stacks) {
  describe(`Vault security (${stack})`, function () {
    this.timeout(120_000);
    let run: StackRun;
    const vaultRelease = () =>
      run.ofType('kubernetes:helm.sh/v3:Release').find((r) => r.name === 'vault')!;
    const policy = (name: string) =>
      run.ofType('vault:index/policy:Policy').find((p) => p.inputs.name === name)?.inputs.policy;
    before(async () => {
      run = await runStack(stack);
    });

    it('serves every listener over TLS with the certificate cert-manager issues', () => {
      const values = vaultRelease().inputs.values;
      assert.equal(values.global.tlsDisable, false);
      const config: string = values.server.ha.raft.config;
      assert.match(config, /tls_disable = 0/);
      assert.doesNotMatch(config, /tls_disable = (1|true)/);
      assert.match(config, /tls_cert_file = "\/vault\/userconfig\/vault-tls\/tls\.crt"/);
      assert.match(config, /tls_key_file = "\/vault\/userconfig\/vault-tls\/tls\.key"/);
      // Raft joins go over https and verify the leader against the CA.
      const joins = [...config.matchAll(/leader_api_addr = "([^"]+)"/g)].map((m) => m[1]);
      assert.equal(joins.length, run.config.vault.replicas);
      for (const j of joins) assert.match(j, /^https:\/\/vault-\d+\.vault-internal:8200$/);
      assert.equal(
        [...config.matchAll(/leader_ca_cert_file = "\/vault\/userconfig\/vault-tls\/ca\.crt"/g)]
          .length,
        joins.length,
      );
      assert.deepEqual(values.server.extraVolumes, [{ type: 'secret', name: vaultTlsSecret }]);
      assert.equal(
        values.server.extraEnvironmentVars.VAULT_CACERT,
        '/vault/userconfig/vault-tls/ca.crt',
      );

      const cert = run
        .ofType('kubernetes:cert-manager.io/v1:Certificate')
        .find((c) => c.inputs.metadata.name === vaultTlsSecret)!;
      assert.equal(cert.inputs.spec.secretName, vaultTlsSecret);
      assert.equal(cert.inputs.spec.issuerRef.name, 'platform-internal-ca');
      // Every name a client uses: the address, each server for raft, loopback for the CLI.
      const names: string[] = cert.inputs.spec.dnsNames;
      assert.ok(names.includes(new URL(vaultAddress).hostname), vaultAddress);
      assert.ok(names.includes('*.vault-internal'));
      assert.deepEqual(cert.inputs.spec.ipAddresses, ['127.0.0.1']);
      assert.ok(
        vaultRelease().dependencies.includes(
          `kubernetes:cert-manager.io/v1:Certificate::vault-tls`,
        ),
      );
      assert.match(vaultAddress, /^https:\/\//);
    });

    it('installs cert-manager with a private CA issuer, chart pinned', () => {
      const [chart] = run
        .ofType('kubernetes:helm.sh/v3:Release')
        .filter((r) => r.inputs.chart === 'cert-manager');
      assert.equal(chart.inputs.version, 'v1.19.1');
      assert.equal(chart.inputs.values.crds.enabled, true);
      const issuers = run.ofType('kubernetes:cert-manager.io/v1:ClusterIssuer');
      const ca = issuers.find((i) => i.inputs.metadata.name === 'platform-internal-ca')!;
      assert.equal(ca.inputs.spec.ca.secretName, 'platform-internal-ca');
      const caCert = run
        .ofType('kubernetes:cert-manager.io/v1:Certificate')
        .find((c) => c.inputs.metadata.name === 'platform-internal-ca')!;
      assert.equal(caCert.inputs.spec.isCA, true);
    });

    it('makes every Vault client verify the server (Agent, snapshots, Prometheus)', () => {
      const templates = [
        ...run.ofType('kubernetes:apps/v1:Deployment'),
        ...run.ofType('kubernetes:batch/v1:Job'),
      ]
        .filter((r) => r.inputs.metadata.namespace === serviceIdentity.namespace)
        .map((r) => r.inputs.spec.template)
        // The service's API, workers and migrations (the database bootstrap talks to no Vault).
        .filter((t) => t.metadata?.annotations?.['vault.hashicorp.com/agent-inject'] === 'true');
      assert.ok(templates.length >= 3);
      for (const t of templates) {
        const a = t.metadata.annotations;
        assert.equal(a['vault.hashicorp.com/service'], vaultAddress);
        assert.equal(a['vault.hashicorp.com/tls-secret'], 'vault-ca');
        assert.equal(a['vault.hashicorp.com/ca-cert'], '/vault/tls/ca.crt');
        assert.equal(a['vault.hashicorp.com/tls-skip-verify'], undefined);
      }
      // The CA bundle exists in the service's namespace, issued by the internal CA.
      const trust = run
        .ofType('kubernetes:cert-manager.io/v1:Certificate')
        .find((c) => c.inputs.metadata.namespace === serviceIdentity.namespace)!;
      assert.equal(trust.inputs.spec.secretName, 'vault-ca');
      // Nothing talks to Vault in clear text or skips verification.
      const everything = strings(run.resources.map((r) => r.inputs));
      assert.deepEqual(
        everything.filter((s) => /http:\/\/vault/.test(s) || /VAULT_SKIP_VERIFY/.test(s)),
        [],
      );
    });

    it('keeps no Vault token in the cluster or the program: the provider reads the environment', () => {
      const mentions = run.resources.filter((r) =>
        strings(r.inputs).some((s) => s.includes(tokenSecret)),
      );
      assert.deepEqual(
        mentions.map((r) => r.name),
        [],
      );
      assert.equal(
        run.ofType('kubernetes:batch/v1:Job').filter((j) => j.inputs.metadata.namespace === 'vault')
          .length,
        0,
        'no configure Job holding a token',
      );
      const [provider] = run.ofType('pulumi:providers:vault');
      assert.ok(provider, 'a Vault provider');
      assert.equal(provider.inputs.token, undefined, 'VAULT_TOKEN comes from the environment');
      assert.equal(provider.inputs.skipTlsVerify, undefined);
      assert.equal(provider.inputs.tlsServerName, 'vault-active.vault.svc');
      assert.ok(Number(provider.inputs.maxLeaseTtlSeconds) <= 1800, 'a short-lived child token');
      // Every Vault resource goes through that provider.
      const vaultResources = run.resources.filter((r) => r.type.startsWith('vault:'));
      assert.ok(vaultResources.length > 10);
      for (const r of vaultResources)
        assert.equal(r.provider, `pulumi:providers:vault::${provider.name}`, r.name);
    });

    it('records every request: a file audit device on the audit volume and one to stdout', () => {
      const devices = run.ofType('vault:index/audit:Audit').map((a) => a.inputs);
      assert.deepEqual(
        devices.map((d) => [d.type, d.options.file_path]).sort(),
        [
          ['file', 'stdout'],
          ['file', vaultAuditLog],
        ].sort(),
      );
      assert.ok(vaultAuditLog.startsWith('/vault/audit/'));
      assert.equal(vaultRelease().inputs.values.server.auditStorage.enabled, true);
      // Configuration waits for the audit devices: nothing is set up unrecorded.
      const audits = run
        .ofType('vault:index/audit:Audit')
        .map((a) => `vault:index/audit:Audit::${a.name}`);
      for (const r of run.resources.filter(
        (x) => x.type.startsWith('vault:') && x.type !== 'vault:index/audit:Audit',
      ))
        for (const a of audits) assert.ok(r.dependencies.includes(a), `${r.name} after ${a}`);
    });

    it('issues the service and the migrations short-lived users inside their group roles', () => {
      const [connection] = run.ofType(
        'vault:database/secretBackendConnection:SecretBackendConnection',
      );
      const pg = connection.inputs.postgresql;
      assert.equal(pg.username, 'vault_admin', 'a login of its own, never the master user');
      assert.ok(pg.password, "the program's password, which the bootstrap Job sets too");
      assert.match(pg.connectionUrl, /^postgresql:\/\/\{\{username\}\}:\{\{password\}\}@/);
      assert.ok(!/\.proxy\./.test(pg.connectionUrl), 'the primary, not RDS Proxy');
      const roles = run
        .ofType('vault:database/secretBackendRole:SecretBackendRole')
        .map((r) => r.inputs);
      assert.deepEqual(
        connection.inputs.allowedRoles.slice().sort(),
        roles.map((r) => r.name).sort(),
      );
      const byName = Object.fromEntries(roles.map((r) => [r.name, r]));
      for (const [role, group, actsAsGroup, catalogGroup] of [
        ['rag-api', 'rag_service', false, 'service'],
        ['rag-api-migrate', 'rag_migrator', true, 'migrator'],
      ] as const) {
        const r = byName[role];
        assert.ok(r, role);
        // The statements the local test services run too: the two never drift apart.
        assert.deepEqual(r.creationStatements, loginCreationStatements(catalogGroup), role);
        assert.deepEqual(r.revocationStatements, loginRevocationStatements(), role);
        assert.equal(
          r.creationStatements[0],
          `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE "${group}"`,
        );
        // A migration user's objects belong to the group, so the user can be dropped.
        assert.equal(
          r.creationStatements.includes(`ALTER ROLE "{{name}}" SET role = '${group}'`),
          actsAsGroup,
          role,
        );
        assert.ok(r.revocationStatements.some((s: string) => s.includes('pg_terminate_backend')));
        assert.ok(r.revocationStatements.some((s: string) => s.startsWith('DROP ROLE')));
        assert.ok(r.maxTtl <= 24 * 3600, `${role} lives at most a day`);
        assert.ok(r.defaultTtl <= 3600);
      }
      // The master user's credentials reach no Vault or Kubernetes object of the service.
      const masterUrls = strings(
        run.resources
          .filter((r) => r.type.startsWith('vault:') || r.inputs.metadata?.namespace === 'rag')
          .map((r) => r.inputs),
      ).filter((s) => /postgres(ql)?:\/\/rag:/.test(s));
      assert.deepEqual(masterUrls, []);
    });

    it('grants each workload exactly its own paths', () => {
      assert.equal(
        policy('rag-api'),
        'path "secret/data/rag-api/config" {\n  capabilities = ["read"]\n}\n' +
          'path "secret/data/rag-api/keys" {\n  capabilities = ["read"]\n}\n' +
          'path "database/creds/rag-api" {\n  capabilities = ["read"]\n}\n',
      );
      assert.equal(
        policy('rag-api-migrate'),
        'path "secret/data/rag-api/config" {\n  capabilities = ["read"]\n}\n' +
          'path "database/creds/rag-api-migrate" {\n  capabilities = ["read"]\n}\n',
      );
      const roles: Record<string, any> = Object.fromEntries(
        run
          .ofType('vault:kubernetes/authBackendRole:AuthBackendRole')
          .map((r) => [r.inputs.roleName, r.inputs]),
      );
      assert.deepEqual(roles['rag-api'].boundServiceAccountNames, ['rag-api']);
      assert.deepEqual(roles['rag-api-migrate'].boundServiceAccountNames, ['rag-api-migrate']);
      for (const r of Object.values(roles)) {
        assert.equal(r.boundServiceAccountNamespaces.length, 1);
        assert.deepEqual(r.tokenPolicies, [r.roleName]);
        assert.ok(r.tokenMaxTtl <= 4 * 3600, r.roleName);
      }
      // Deploys log in with a short-lived token of a ServiceAccount that can do nothing else.
      assert.deepEqual(roles.deployer.boundServiceAccountNames, ['vault-deployer']);
      assert.deepEqual(roles.deployer.boundServiceAccountNamespaces, ['vault']);
      assert.ok(roles.deployer.tokenMaxTtl <= 3600);
      assert.equal(policy('deployer'), undefined, 'the program never writes its own grant');
      assert.equal(
        run
          .ofType('kubernetes:rbac.authorization.k8s.io/v1:RoleBinding')
          .concat(run.ofType('kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding'))
          .filter((b) =>
            (b.inputs.subjects ?? []).some((x: { name: string }) => x.name === 'vault-deployer'),
          ).length,
        0,
      );
    });
  });
}

describe('Vault deployer policy (infra/vault/deployer-policy.hcl)', () => {
  const text = readFileSync(vaultDeployerPolicyFile, 'utf8');
  it('denies the deployer its own policy and every credential it configures', () => {
    assert.match(text, /path "sys\/policies\/acl\/deployer" \{\n {2}capabilities = \["deny"\]\n\}/);
    const paths = [...text.matchAll(/^path "([^"]+)"/gm)].map((m) => m[1]);
    assert.ok(paths.length > 10);
    for (const p of paths) {
      assert.ok(!p.startsWith('database/creds'), p);
      assert.ok(!p.startsWith('sys/storage/raft'), p);
      assert.ok(!p.includes('rag-api/keys') && !p.endsWith('rag-api/*'), p);
      assert.notEqual(p, '*');
    }
  });
});

describe('Vault sessions of deploys (infra/scripts/vault-session.sh)', () => {
  const script = readFileSync(path.join(repoRoot, 'infra/scripts/vault-session.sh'), 'utf8');

  it('logs in as the deployer role with a short-lived ServiceAccount token and revokes on exit', () => {
    assert.ok(
      script.includes(`create token ${vaultDeployerServiceAccount} --duration=10m`),
      'a ten-minute ServiceAccount token',
    );
    assert.ok(script.includes(`role: "${vaultDeployerPolicy}"`));
    assert.match(script, /trap vault_session_end EXIT/);
    assert.match(script, /auth\/token\/revoke-self/);
    assert.match(script, /--cacert "\$VAULT_CACERT"/);
    assert.doesNotMatch(script, /--insecure|\s-k\s/);
    const check = spawnSync('shellcheck', ['--shell=bash', '--severity=warning', '-'], {
      input: script,
      encoding: 'utf8',
    });
    assert.equal(check.error, undefined, 'shellcheck runs (scripts/tools/debian-packages.sh)');
    assert.equal(check.status, 0, check.stdout);
  });

  it('opens a session before every pulumi up of the deploy workflow', () => {
    const wf = parse(
      readFileSync(path.join(repoRoot, '.github/workflows/infra-deploy.yml'), 'utf8'),
    ) as { jobs: Record<string, { steps?: { run?: string }[] }> };
    const runs = Object.values(wf.jobs)
      .flatMap((j) => j.steps ?? [])
      .map((st) => st.run ?? '')
      .filter((r) => /^\s*pulumi up /m.test(r));
    assert.ok(runs.length >= 2, 'the deploy and the rollback');
    for (const r of runs) {
      const session = r.indexOf('source infra/scripts/vault-session.sh');
      assert.ok(session >= 0 && session < r.search(/^\s*pulumi up /m), r);
    }
  });
});
