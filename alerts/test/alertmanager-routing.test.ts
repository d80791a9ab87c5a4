import assert from 'node:assert/strict';
import { allAlerts, alertLabels } from '../src/render/rule-files';
import { receivers } from '../../catalog/alerting/receivers';
import { alertmanagerConfig } from '../src/alertmanager/alertmanager-config';
import { runTool } from './support/run-tool';

// amtool against the committed config: it loads, and every alert reaches the receiver its
// severity promises (critical -> page, warning -> ticket, info -> nowhere, Watchdog -> heartbeat).

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

  it('routes an alert with an unknown severity to the ticket receiver, not to nowhere', () => {
    const r = routesTest(receivers.ticket, 'alertname=Unknown', 'severity=bogus');
    assert.equal(r.code, 0, r.output);
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

  it('mutes warning and info routes during maintenance windows, never pages or the heartbeat', () => {
    const routes = alertmanagerConfig().route.routes as {
      receiver: string;
      mute_time_intervals?: string[];
    }[];
    const muted = (r: string) => routes.find((x) => x.receiver === r)?.mute_time_intervals ?? [];
    assert.deepEqual(muted(receivers.page), []);
    assert.deepEqual(muted(receivers.heartbeat), []);
    assert.ok(muted(receivers.ticket).includes('weekly-maintenance'));
  });
});
