import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  maintenanceWindows,
  type MaintenanceWindow,
} from '../../catalog/alerting/maintenance-windows';
import { renderAlertmanagerConfig } from '../src/alertmanager/alertmanager-config';
import { allAlerts, alertLabels } from '../src/render/rule-files';
import { freePort } from '../../app/test/support/service-process';
import { eventually, GiveUp } from '../../test-support/eventually';

// Inhibition and time intervals need a running Alertmanager: amtool cannot evaluate them. The
// generated config is rendered with its secrets directory, PagerDuty URL and heartbeat pointing
// at a local receiver, and real alerts are posted to a real Alertmanager (Debian's binary).

interface Delivery {
  path: string;
  body: string;
}

async function startReceiver(): Promise<{ server: Server; url: string; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      deliveries.push({ path: req.url ?? '', body });
      res
        .writeHead(202, { 'content-type': 'application/json' })
        .end('{"status":"success","message":"ok"}');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${port}`, deliveries };
}

async function startAlertmanager(configYaml: string, dir: string) {
  const port = await freePort();
  writeFileSync(path.join(dir, 'alertmanager.yml'), configYaml);
  const child: ChildProcess = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, `data-${port}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      // Debug: the notification pipeline logs when it mutes a route, the one sign of a mute.
      '--log.level=debug',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new GiveUp(`alertmanager exited:\n${log}`);
      return (await fetch(`${url}/-/ready`)).ok;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: 'alertmanager ready' },
  );
  return {
    url,
    log: () => log,
    async post(alerts: Record<string, string>[]) {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts.map((labels) => ({ labels, annotations: { summary: 's' } }))),
      });
      assert.equal(res.status, 200);
    },
    async alerts() {
      const res = await fetch(`${url}/api/v2/alerts`);
      return (await res.json()) as {
        labels: Record<string, string>;
        status: { inhibitedBy: string[]; state: string };
      }[];
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function labelsOf(alert: string, severity?: string): Record<string, string> {
  const def = allAlerts().find((a) => a.alert === alert && (!severity || a.severity === severity));
  if (!def) throw new Error(alert);
  return { alertname: alert, ...alertLabels(def), namespace: 'rag' };
}

describe('Alertmanager live: inhibition and time intervals', function () {
  this.timeout(60_000);
  let dir: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'obs-alertmanager-'));
    receiver = await startReceiver();
    writeFileSync(path.join(dir, 'slack-webhook-url'), `${receiver.url}/slack`);
    writeFileSync(path.join(dir, 'pagerduty-routing-key'), 'test-routing-key');
    writeFileSync(path.join(dir, 'smtp-password'), 'unused');
  });
  after(async () => {
    await new Promise((r) => receiver.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const configWith = (windows: readonly MaintenanceWindow[]) =>
    renderAlertmanagerConfig({
      secretsDir: dir,
      pagerDutyUrl: `${receiver.url}/pagerduty`,
      heartbeatUrl: `${receiver.url}/heartbeat`,
      smtpSmarthost: '127.0.0.1:9',
      groupWait: '1s',
      groupInterval: '1s',
      windows,
    });

  it('a dependency-down alert mutes its symptoms; critical mutes the warning of the same alert', async () => {
    const am = await startAlertmanager(configWith(maintenanceWindows), dir);
    try {
      await am.post([
        labelsOf('VectorStoreDown'),
        labelsOf('QueryLatencyBudgetBurn', 'critical'),
        labelsOf('IngestionBacklog'),
        labelsOf('IngestAvailabilityBudgetBurn', 'critical'),
        labelsOf('IngestAvailabilityBudgetBurn', 'warning'),
        labelsOf('CacheHitRatioCollapse'),
      ]);
      // The inhibitor learns of source alerts asynchronously after the POST: poll until the
      // expected mutes show, then check every alert (the unmuted ones stay unmuted).
      const expectMuted: [string, string?][] = [
        ['QueryLatencyBudgetBurn'],
        ['IngestionBacklog'],
        ['IngestAvailabilityBudgetBurn', 'warning'],
      ];
      let alerts = await am.alerts();
      const find = (name: string, severity?: string) =>
        alerts.find(
          (x) => x.labels.alertname === name && (!severity || x.labels.severity === severity),
        );
      await eventually(
        async () => {
          alerts = await am.alerts();
          return expectMuted.every(([n, s]) => (find(n, s)?.status.inhibitedBy.length ?? 0) > 0);
        },
        { what: 'the inhibitions to apply', timeoutMs: 15_000 },
      ).catch(() => undefined); // the assertions below say which one is missing
      const inhibited = (name: string, severity?: string) => {
        const a = find(name, severity);
        assert.ok(a, `${name} not received`);
        return a.status.inhibitedBy.length > 0;
      };
      assert.equal(inhibited('VectorStoreDown'), false);
      assert.equal(
        inhibited('QueryLatencyBudgetBurn'),
        true,
        'VectorStoreDown mutes query latency burn',
      );
      assert.equal(
        inhibited('IngestionBacklog'),
        true,
        'VectorStoreDown mutes the ingestion backlog',
      );
      assert.equal(inhibited('IngestAvailabilityBudgetBurn', 'critical'), false);
      assert.equal(
        inhibited('IngestAvailabilityBudgetBurn', 'warning'),
        true,
        'page mutes its ticket',
      );
      // RedisDown is not firing: its symptom must still notify.
      assert.equal(inhibited('CacheHitRatioCollapse'), false);
    } finally {
      await am.stop();
    }
  });

  /**
   * Posts a warning, a page and the Watchdog, and returns what reached the receiver once `done`
   * holds (Alertmanager's debug log is passed too, for waiting on a mute).
   */
  async function deliveriesFor(
    windows: readonly MaintenanceWindow[],
    done: (d: { path: string; alerts: string }[], log: string) => boolean,
  ) {
    receiver.deliveries.length = 0;
    const am = await startAlertmanager(configWith(windows), dir);
    const delivered = () => receiver.deliveries.map((d) => ({ path: d.path, alerts: d.body }));
    try {
      // PodCpuSaturation: a warning none of the posted alerts inhibits. NoSeverityCheck: ours
      // without a severity. KubeNodeNotReady: a foreign page. InfoInhibitor: kube-prometheus-
      // stack's, in the Watchdog's namespace, which must not inhibit the heartbeat.
      const ownLabels = { team: labelsOf('Watchdog').team, service: labelsOf('Watchdog').service };
      await am.post([
        labelsOf('PodCpuSaturation'),
        labelsOf('PostgresPrimaryDown'),
        { alertname: 'Watchdog', ...labelsOf('Watchdog') },
        { alertname: 'NoSeverityCheck', namespace: 'rag', ...ownLabels },
        { alertname: 'KubeNodeNotReady', severity: 'critical', namespace: 'kube-system' },
        { alertname: 'InfoInhibitor', severity: 'none', namespace: 'rag' },
      ]);
      await eventually(() => done(delivered(), am.log()), {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'the notifications',
      }).catch(() => undefined); // the assertions say what is missing
      return { d: delivered(), log: am.log() };
    } finally {
      await am.stop();
    }
  }

  const allWeek: MaintenanceWindow[] = maintenanceWindows.map((w) => ({
    ...w,
    timeIntervals: [{ weekdays: ['sunday:saturday'] }],
  }));
  // A weekday three days away from today (UTC): the window cannot cover the test's few seconds.
  const otherDay = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'][
    (new Date().getUTCDay() + 3) % 7
  ];
  const never: MaintenanceWindow[] = maintenanceWindows.map((w) => ({
    ...w,
    timeIntervals: [{ weekdays: [otherDay] }],
  }));

  /**
   * How often the debug log shows a group of this alert flushed. A group flushes one notification
   * after another, so a second flush means the first one's delivery (or mute) is over.
   */
  const flushes = (log: string, alert: string) =>
    log
      .split('\n')
      .filter((l) => l.includes('msg=flushing') && l.includes(`alertname=\\"${alert}\\"`)).length;
  const slack = (d: { path: string; alerts: string }[], alert: string) =>
    d.some((x) => x.path === '/slack' && x.alerts.includes(alert));
  const pagerDuty = (d: { path: string; alerts: string }[]) =>
    d.some((x) => x.path === '/pagerduty' && x.alerts.includes('test-routing-key'));
  const heartbeat = (d: { path: string; alerts: string }[]) =>
    d.some((x) => x.path === '/heartbeat' && x.alerts.includes('Watchdog'));

  const clusterChannel = (d: { path: string; alerts: string }[], alert: string) =>
    d.some(
      (x) =>
        x.path === '/slack' && x.alerts.includes(alert) && x.alerts.includes('#cluster-alerts'),
    );

  it('outside a maintenance window: warnings reach Slack, pages reach PagerDuty and Slack, Watchdog the heartbeat', async () => {
    const { d } = await deliveriesFor(
      never,
      (d) =>
        slack(d, 'PodCpuSaturation') &&
        pagerDuty(d) &&
        slack(d, 'PostgresPrimaryDown') &&
        slack(d, 'NoSeverityCheck') &&
        clusterChannel(d, 'KubeNodeNotReady') &&
        heartbeat(d),
    );
    assert.ok(slack(d, 'PodCpuSaturation'), JSON.stringify(d));
    assert.ok(pagerDuty(d), JSON.stringify(d));
    assert.ok(slack(d, 'PostgresPrimaryDown'), JSON.stringify(d));
    assert.ok(slack(d, 'NoSeverityCheck'), 'an alert without severity reaches the ticket channel');
    assert.ok(clusterChannel(d, 'KubeNodeNotReady'), JSON.stringify(d));
    assert.ok(
      !d.some((x) => x.path === '/pagerduty' && x.alerts.includes('KubeNodeNotReady')),
      'a foreign page must not reach our PagerDuty',
    );
    assert.ok(!d.some((x) => x.alerts.includes('InfoInhibitor')), 'InfoInhibitor reaches nobody');
    assert.ok(heartbeat(d), 'InfoInhibitor must not inhibit the heartbeat');
  });

  it('inside a maintenance window: warnings are muted, pages and the heartbeat still go out', async () => {
    // Only the warning's route is muted here; its pipeline logs the mute when it would have sent.
    const { d, log } = await deliveriesFor(
      allWeek,
      (d, log) =>
        pagerDuty(d) &&
        heartbeat(d) &&
        flushes(log, 'PodCpuSaturation') >= 2 &&
        flushes(log, 'NoSeverityCheck') >= 2,
    );
    assert.ok(!d.some((x) => x.alerts.includes('PodCpuSaturation')), JSON.stringify(d));
    assert.ok(!d.some((x) => x.alerts.includes('NoSeverityCheck')), JSON.stringify(d));
    assert.ok(flushes(log, 'NoSeverityCheck') >= 2, 'the no-severity route ran (and was muted)');
    assert.match(log, /route is within mute time/, 'the warning route ran and was muted');
    assert.ok(pagerDuty(d), JSON.stringify(d));
    assert.ok(heartbeat(d), JSON.stringify(d));
  });
});
