import assert from 'node:assert/strict';
import { allAlerts, alertLabels } from '../src/render/rule-files';
import { receivers } from '../../catalog/alerting/receivers';
import { receiverSecretFiles, receiverSecretsDir } from '../../catalog/alerting/receiver-secrets';
import { serviceIdentity } from '../../catalog/service-identity';
import { alertmanagerConfig } from '../src/alertmanager/alertmanager-config';
import { runTool } from './support/run-tool';

// amtool against the committed config: it loads, and every alert reaches the receiver its
// severity promises (critical -> page, warning -> ticket, info -> nowhere, Watchdog -> heartbeat),
// while alerts of other teams and kube-prometheus-stack's default rules never reach our pager.

const config = 'alerts/generated/alertmanager.yaml';
const expectedReceiver = (alertname: string, severity: string) =>
  alertname === 'Watchdog'
    ? receivers.heartbeat
    : (
        { critical: receivers.page, warning: receivers.ticket, info: receivers.none } as Record<
          string,
          string
        >
      )[severity];

/** `amtool config routes test`: does an alert with these labels reach exactly this receiver? */
const routesTest = (receiver: string, ...labels: string[]) =>
  runTool('amtool', [
    'config',
    'routes',
    'test',
    `--config.file=${config}`,
    `--verify.receivers=${receiver}`,
    ...labels,
  ]);

describe('Alertmanager routing (amtool)', () => {
  it('check-config accepts the generated config', () => {
    const r = runTool('amtool', ['check-config', config]);
    assert.equal(r.code, 0, r.output);
  });

  for (const a of allAlerts()) {
    const labels = { alertname: a.alert, ...alertLabels(a) };
    const receiver = expectedReceiver(a.alert, a.severity);
    it(`routes ${a.alert} (${a.severity}) to ${receiver}`, () => {
      const args = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
      const r = routesTest(receiver, ...args);
      assert.equal(r.code, 0, r.output);
    });
  }

  const ours = [`team=${serviceIdentity.team}`, `service=${serviceIdentity.service}`];

  it('routes our alert with an unknown severity to the ticket receiver, not to nowhere', () => {
    const r = routesTest(receivers.ticket, 'alertname=Unknown', 'severity=bogus', ...ours);
    assert.equal(r.code, 0, r.output);
  });

  it('routes our alert without a severity label to the ticket receiver', () => {
    const r = routesTest(receivers.ticket, 'alertname=NoSeverity', ...ours);
    assert.equal(r.code, 0, r.output);
  });

  describe('foreign alerts (kube-prometheus-stack default rules, other teams)', () => {
    it("a foreign critical alert reaches the cluster's receiver and not our pager", () => {
      const labels = ['alertname=KubeNodeNotReady', 'severity=critical', 'namespace=kube-system'];
      assert.equal(routesTest(receivers.foreign, ...labels).code, 0);
      assert.notEqual(routesTest(receivers.page, ...labels).code, 0);
    });

    it('a foreign critical alert about our namespace does not page us either', () => {
      const labels = ['alertname=KubePodCrashLooping', 'severity=critical', 'namespace=rag'];
      assert.equal(routesTest(receivers.foreign, ...labels).code, 0);
    });

    it("another team's critical alert does not page us", () => {
      const labels = ['alertname=SearchDown', 'severity=critical', 'team=search'];
      assert.equal(routesTest(receivers.foreign, ...labels).code, 0);
    });

    it('foreign warnings and alerts without a severity go to the cluster channel', () => {
      assert.equal(
        routesTest(receivers.foreign, 'alertname=KubeHpaMaxedOut', 'severity=warning').code,
        0,
      );
      assert.equal(routesTest(receivers.foreign, 'alertname=Anything').code, 0);
    });

    it("kube-prometheus-stack's Watchdog and InfoInhibitor reach nobody (no permanent ticket)", () => {
      for (const name of ['Watchdog', 'InfoInhibitor']) {
        const r = routesTest(receivers.none, `alertname=${name}`, 'severity=none', 'namespace=rag');
        assert.equal(r.code, 0, `${name}: ${r.output}`);
      }
    });

    it('foreign info alerts go nowhere', () => {
      const r = routesTest(receivers.none, 'alertname=KubeQuotaAlmostFull', 'severity=info');
      assert.equal(r.code, 0, r.output);
    });
  });

  it('InfoInhibitor inhibits foreign info alerts only, never our Watchdog', () => {
    const rule = alertmanagerConfig().inhibit_rules.find((r) =>
      r.source_matchers.includes('alertname="InfoInhibitor"'),
    );
    assert.ok(rule, 'no InfoInhibitor inhibition: its info alerts would all reach someone');
    assert.ok(rule.target_matchers.includes('severity="info"'));
    assert.ok(rule.target_matchers.includes(`team!="${serviceIdentity.team}"`));
  });

  it("the Watchdog feeds the external dead-man's switch read from the receivers Secret", () => {
    const cfg = alertmanagerConfig();
    const hb = cfg.receivers.find((r) => r.name === receivers.heartbeat) as {
      webhook_configs: { url_file?: string; url?: string; send_resolved: boolean }[];
    };
    assert.deepEqual(hb.webhook_configs, [
      {
        url_file: `${receiverSecretsDir}/${receiverSecretFiles.deadMansSwitchUrl}`,
        send_resolved: false,
      },
    ]);
    const route = routeFor(cfg.route, { alertname: 'Watchdog', severity: 'info', ...ownLabels });
    assert.equal(route.receiver, receivers.heartbeat);
    assert.equal(route.repeat_interval, '1m', 'the switch expects a ping every minute');
  });

  it('amtool reports a wrong receiver (the routing check can fail)', () => {
    const r = routesTest(receivers.none, 'alertname=VectorStoreDown', 'severity=critical');
    assert.notEqual(r.code, 0);
  });

  it('routes a non-Watchdog info alert to nowhere', () => {
    const r = routesTest(receivers.none, 'alertname=SomeInfo', 'severity=info', 'service=rag-api');
    assert.equal(r.code, 0, r.output);
  });

  it('reaches every receiver except the info sink from a declared alert', () => {
    const used = new Set(allAlerts().map((a) => expectedReceiver(a.alert, a.severity)));
    for (const r of [receivers.page, receivers.ticket, receivers.heartbeat]) {
      assert.ok(used.has(r), `no alert reaches ${r}`);
    }
  });

  it('mutes tickets (with or without a severity) in maintenance windows, never pages or the heartbeat', () => {
    const root = alertmanagerConfig().route;
    const muted = (labels: Record<string, string>) =>
      routeFor(root, labels).mute_time_intervals ?? [];
    const own = (severity?: string) => ({
      alertname: 'X',
      ...ownLabels,
      ...(severity ? { severity } : {}),
    });
    assert.deepEqual(muted(own('critical')), []);
    assert.deepEqual(muted({ ...own('info'), alertname: 'Watchdog' }), []);
    assert.deepEqual(muted({ alertname: 'NodeDown', severity: 'critical' }), []);
    for (const labels of [
      own('warning'),
      own(),
      own('bogus'),
      own('info'),
      { alertname: 'NodeDisk', severity: 'warning' },
    ])
      assert.ok(muted(labels).includes('weekly-maintenance'), JSON.stringify(labels));
  });

  it('the route model agrees with amtool on where alerts land', () => {
    const root = alertmanagerConfig().route;
    const cases: Record<string, string>[] = [
      { alertname: 'X', ...ownLabels },
      { alertname: 'X', severity: 'critical', ...ownLabels },
      { alertname: 'KubeNodeNotReady', severity: 'critical' },
      { alertname: 'InfoInhibitor', severity: 'none' },
    ];
    for (const labels of cases) {
      const receiver = routeFor(root, labels).receiver ?? root.receiver;
      const args = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
      assert.equal(routesTest(String(receiver), ...args).code, 0, `${receiver} ${args.join(' ')}`);
    }
  });
});

const ownLabels = { team: serviceIdentity.team, service: serviceIdentity.service };

interface Route {
  receiver?: string;
  matchers?: string[];
  routes?: Route[];
  mute_time_intervals?: string[];
  repeat_interval?: string;
}

/**
 * Alertmanager's routing for one alert (no `continue` in our tree): the first matching child,
 * depth first; a route without a matching child handles the alert itself. Child routes do not
 * inherit mute_time_intervals; receivers and intervals are inherited.
 */
function routeFor(route: Route, labels: Record<string, string>): Route {
  for (const child of route.routes ?? []) {
    if ((child.matchers ?? []).every((m) => matches(m, labels))) {
      const found = routeFor(child, labels);
      return {
        ...found,
        receiver: found.receiver ?? route.receiver,
        repeat_interval: found.repeat_interval ?? route.repeat_interval,
      };
    }
  }
  return route;
}

function matches(matcher: string, labels: Record<string, string>): boolean {
  const m = /^(\w+)(=~|!~|!=|=)"(.*)"$/.exec(matcher);
  if (!m) throw new Error(`matcher not understood: ${matcher}`);
  const [, name, op, value] = m;
  const actual = labels[name] ?? '';
  const re = new RegExp(`^(?:${value})$`);
  return {
    '=': actual === value,
    '!=': actual !== value,
    '=~': re.test(actual),
    '!~': !re.test(actual),
  }[op]!;
}
