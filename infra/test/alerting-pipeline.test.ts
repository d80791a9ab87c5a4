import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { receiverSecretsDir } from '../../catalog/alerting/receiver-secrets';
import { alertmanagerReceiverSecret } from '../../catalog/alerting/receiver-secrets';
import { alertmanagerVersion, monitoringNamespace } from '../components/observability';
import { grafanaService } from '../components/grafana-ingress';
import { repoRoot, runStack, stacks, type StackRun } from './support/stack-under-mocks';

// The alerting pipeline as each stack deploys it: the Watchdog's dead-man's switch is configured
// (its ping URL is a receiver secret the stack sets), every alert's dashboard link opens a Grafana
// the stack serves over TLS, and the Alertmanager is the version the tests check the config with.

interface Route {
  receiver?: string;
  matchers?: string[];
  routes?: Route[];
}
interface AmConfig {
  route: Route;
  receivers: { name: string; webhook_configs?: { url?: string; url_file?: string }[] }[];
}

function kpsValues(run: StackRun) {
  return run
    .ofType('kubernetes:helm.sh/v3:Release')
    .find((r) => r.inputs.chart === 'kube-prometheus-stack')!.inputs.values;
}

/** The receiver of the first route (depth first) that names the Watchdog. */
function watchdogReceiver(route: Route): string | undefined {
  for (const child of route.routes ?? []) {
    if ((child.matchers ?? []).includes('alertname="Watchdog"')) return child.receiver;
    const inner = watchdogReceiver(child);
    if (inner) return inner;
  }
  return undefined;
}

function alertAnnotations(run: StackRun) {
  return run.ofType('kubernetes:monitoring.coreos.com/v1:PrometheusRule').flatMap((r) =>
    (
      r.inputs.spec.groups as {
        rules: { alert?: string; annotations?: Record<string, string> }[];
      }[]
    )
      .flatMap((g) => g.rules)
      .filter((rule) => rule.alert),
  );
}

describe('infra alerting pipeline', function () {
  this.timeout(120_000);

  for (const stack of stacks) {
    describe(stack, () => {
      let run: StackRun;
      before(async () => {
        run = await runStack(stack);
      });

      it("routes the Watchdog to the dead-man's switch URL the stack sets as a receiver secret", () => {
        const config = kpsValues(run).alertmanager.config as AmConfig;
        const name = watchdogReceiver(config.route);
        assert.ok(name, 'no route for the Watchdog');
        const hooks = config.receivers.find((r) => r.name === name)?.webhook_configs ?? [];
        assert.equal(hooks.length, 1, `receiver ${name}`);
        const file = hooks[0].url_file;
        assert.ok(file, `the Watchdog pings ${hooks[0].url}: nothing the stack configures`);
        assert.equal(path.posix.dirname(file), receiverSecretsDir);
        const secret = run
          .ofType('kubernetes:core/v1:Secret')
          .find((s) => s.inputs.metadata.name === alertmanagerReceiverSecret)!.inputs;
        assert.match(String(secret.stringData[path.posix.basename(file)]), /^https:\/\//);
        assert.deepEqual(kpsValues(run).alertmanager.alertmanagerSpec.secrets, [
          alertmanagerReceiverSecret,
        ]);
      });

      it('opens every dashboard_url on a host its Grafana Ingress serves over TLS', () => {
        const grafanaIngresses = run
          .ofType('kubernetes:networking.k8s.io/v1:Ingress')
          .filter((i) => i.inputs.metadata.namespace === monitoringNamespace)
          .filter((i) =>
            i.inputs.spec.rules.some((r: any) =>
              r.http.paths.some((p: any) => p.backend.service.name === grafanaService.name),
            ),
          );
        const served = new Set(
          grafanaIngresses.flatMap((i) => i.inputs.spec.rules.map((r: any) => r.host as string)),
        );
        const tlsHosts = new Set(
          grafanaIngresses.flatMap((i) =>
            i.inputs.spec.tls.flatMap((t: any) => t.hosts as string[]),
          ),
        );
        const links = alertAnnotations(run).map((a) => a.annotations!.dashboard_url);
        assert.ok(links.length > 10, 'the rules lost their dashboard links');
        for (const link of links) {
          const url = new URL(link);
          assert.equal(url.protocol, 'https:', link);
          assert.ok(served.has(url.host), `${link}: no Grafana Ingress serves ${url.host}`);
          assert.ok(tlsHosts.has(url.host), `${link}: ${url.host} has no TLS`);
        }
        assert.deepEqual([...served], [run.config.observability.grafanaHost]);
        for (const i of grafanaIngresses) {
          assert.equal(i.inputs.spec.ingressClassName, run.config.app.ingressClassName);
          if (run.config.environment === 'dev') {
            assert.ok(i.inputs.spec.tls[0].secretName, 'dev Grafana Ingress without a TLS secret');
          } else {
            const a = i.inputs.metadata.annotations;
            assert.equal(
              a['alb.ingress.kubernetes.io/certificate-arn'],
              run.config.observability.grafanaTlsCertificateArn,
            );
            assert.equal(a['alb.ingress.kubernetes.io/ssl-redirect'], '443');
            assert.equal(a['alb.ingress.kubernetes.io/scheme'], 'internal');
          }
        }
      });

      it('pins the Alertmanager the generated config was checked against', () => {
        assert.equal(kpsValues(run).alertmanager.alertmanagerSpec.image.tag, alertmanagerVersion);
      });
    });
  }

  it('the pinned Alertmanager is the version the tests run amtool at', () => {
    const script = readFileSync(path.join(repoRoot, 'scripts/tools/amtool.sh'), 'utf8');
    assert.equal(/^ALERTMANAGER_VERSION=(\S+)$/m.exec(script)?.[1], alertmanagerVersion);
  });

  it("refuses a stack without the dead-man's switch URL", async () => {
    const secrets = {
      'pagerduty-routing-key': 'k',
      'slack-webhook-url': 'https://hooks.test/x',
      'smtp-password': 'p',
    };
    await assert.rejects(
      runStack('staging', { 'rag-platform:alertmanagerReceiverSecrets': JSON.stringify(secrets) }),
      /alertmanagerReceiverSecrets is missing deadmans-switch-url/,
    );
  });

  it("refuses a dead-man's switch URL that is not https", async () => {
    const secrets = {
      'pagerduty-routing-key': 'k',
      'slack-webhook-url': 'https://hooks.test/x',
      'smtp-password': 'p',
      'deadmans-switch-url': 'hc-ping.com/uuid',
    };
    await assert.rejects(
      runStack('staging', { 'rag-platform:alertmanagerReceiverSecrets': JSON.stringify(secrets) }),
      /deadmans-switch-url must be an https URL/,
    );
  });
});
