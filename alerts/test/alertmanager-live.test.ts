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
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (
    !(await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error('alertmanager did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
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
      const alerts = await am.alerts();
      const inhibited = (name: string, severity?: string) => {
        const a = alerts.find(
          (x) => x.labels.alertname === name && (!severity || x.labels.severity === severity),
        );
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

  async function deliveriesFor(windows: readonly MaintenanceWindow[]) {
    receiver.deliveries.length = 0;
    const am = await startAlertmanager(configWith(windows), dir);
    try {
      // PodCpuSaturation: a warning none of the posted alerts inhibits.
      await am.post([
        labelsOf('PodCpuSaturation'),
        labelsOf('PostgresPrimaryDown'),
        { alertname: 'Watchdog', ...labelsOf('Watchdog') },
      ]);
      await new Promise((r) => setTimeout(r, 4_000));
      return receiver.deliveries.map((d) => ({ path: d.path, alerts: d.body }));
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

  it('outside a maintenance window: warnings reach Slack, pages reach PagerDuty and Slack, Watchdog the heartbeat', async () => {
    const d = await deliveriesFor(never);
    assert.ok(
      d.some((x) => x.path === '/slack' && x.alerts.includes('PodCpuSaturation')),
      JSON.stringify(d),
    );
    assert.ok(d.some((x) => x.path === '/pagerduty' && x.alerts.includes('test-routing-key')));
    assert.ok(d.some((x) => x.path === '/slack' && x.alerts.includes('PostgresPrimaryDown')));
    assert.ok(d.some((x) => x.path === '/heartbeat' && x.alerts.includes('Watchdog')));
  });

  it('inside a maintenance window: warnings are muted, pages and the heartbeat still go out', async () => {
    const d = await deliveriesFor(allWeek);
    assert.ok(!d.some((x) => x.alerts.includes('PodCpuSaturation')), JSON.stringify(d));
    assert.ok(d.some((x) => x.path === '/pagerduty'));
    assert.ok(d.some((x) => x.path === '/heartbeat'));
  });
});
