import assert from 'node:assert/strict';
import { scrapeJobs } from '../../catalog/metrics/scrape-jobs';
import { loadGeneratedArtifacts } from '../observability/generated-artifacts';
import { vaultInternalServiceLabels, vaultMetricsPath } from '../components/vault';
import { repoRoot, runStack, stacks, type StackRun } from './support/stack-under-mocks';

// VaultSealed can only fire if Vault serves Prometheus metrics without a token and every server
// pod is scraped under the job the alert selects.

/** The body of the first `<header> { ... }` block in HCL text (balanced braces). */
function hclBlock(text: string, header: RegExp): string | undefined {
  const m = header.exec(text);
  if (!m) return undefined;
  let depth = 0;
  for (let i = m.index + m[0].length - 1; i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return text.slice(m.index + m[0].length, i);
  }
  return undefined;
}

for (const stackName of stacks) {
  describe(`Vault metrics (${stackName})`, function () {
    this.timeout(60_000);
    let run: StackRun;
    before(async () => {
      run = await runStack(stackName);
    });

    it('serves Prometheus metrics without a token, with host-independent names', () => {
      const release = run.ofType('kubernetes:helm.sh/v3:Release').find((r) => r.name === 'vault');
      const config: string = release!.inputs.values.server.ha.raft.config;
      const listener = hclBlock(config, /listener "tcp" \{/);
      assert.ok(listener, 'tcp listener');
      assert.match(
        hclBlock(listener, /telemetry \{/) ?? '',
        /unauthenticated_metrics_access = true/,
      );
      // The top-level stanza (after the listener block closes).
      const topLevel = config.replace(/listener "tcp" \{[\s\S]*?\n\}\n/, '');
      const telemetry = hclBlock(topLevel, /^telemetry \{/m);
      assert.ok(telemetry, 'top-level telemetry stanza');
      assert.match(telemetry, /prometheus_retention_time = "\d+[smh]"/);
      assert.match(telemetry, /disable_hostname = true/);
    });

    it('scrapes every server pod through vault-internal as the job VaultSealed selects', () => {
      const monitors = run
        .ofType('kubernetes:monitoring.coreos.com/v1:ServiceMonitor')
        .filter((m) => m.inputs.metadata.namespace === 'vault');
      assert.equal(monitors.length, 1);
      const spec = monitors[0].inputs.spec;
      assert.deepEqual(spec.selector.matchLabels, vaultInternalServiceLabels);
      assert.equal(spec.endpoints.length, 1);
      const [endpoint] = spec.endpoints;
      // TLS on the listener: the chart names the port https; the scrape verifies the server
      // against the internal CA with a name every server's certificate carries.
      assert.equal(endpoint.port, 'https');
      assert.equal(endpoint.scheme, 'https');
      assert.deepEqual(endpoint.tlsConfig, {
        ca: { secret: { name: 'vault-tls', key: 'ca.crt' } },
        serverName: 'vault-internal.vault.svc',
      });
      const certificate = run
        .ofType('kubernetes:cert-manager.io/v1:Certificate')
        .find((c) => c.inputs.metadata.name === 'vault-tls')!;
      assert.ok(certificate.inputs.spec.dnsNames.includes(endpoint.tlsConfig.serverName));
      assert.equal(endpoint.path, vaultMetricsPath);
      assert.deepEqual(endpoint.params, { format: ['prometheus'] });
      const jobs = endpoint.relabelings.filter(
        (r: { targetLabel: string }) => r.targetLabel === 'job',
      );
      assert.deepEqual(
        jobs.map((r: { replacement: string }) => r.replacement),
        [scrapeJobs.vault],
      );
      // The alert as shipped: the rule file infra deploys, not alerts' TypeScript.
      const sealed = loadGeneratedArtifacts(repoRoot)
        .ruleFiles.flatMap((f) => f.groups as { rules: { alert?: string; expr: string }[] }[])
        .flatMap((g) => g.rules)
        .find((r) => r.alert === 'VaultSealed')!;
      assert.ok(sealed.expr.includes(`job="${scrapeJobs.vault}"`), sealed.expr);
    });
  });
}
