import assert from 'node:assert/strict';
import { receivers } from '../../../catalog/alerting/receivers';
import { eventually } from '../../../test-support/eventually';
import { prepareCommandContext, runLocalCommands } from '../commands/local-commands';
import { fireDrill } from '../fire/fire-drills';
import { runFireDrill, type FireDrillResult } from '../fire/run-fire-drill';
import { startTraffic } from '../fire/traffic';
import { startDrillStack, type DrillStack } from '../stack/drill-stack';

// Fire drills in the suite, one per distinct path through the alerting pipeline: a dependency-down
// cause alert (Redis stopped: a warning, routed to the ticket receiver) and a burn-rate page (every
// query failing: the SLO rules' multiwindow burn, routed to the page receiver). Real Redis, service,
// Prometheus and Alertmanager; the rules and routes on a compressed clock (factor 1/60, see
// stack/time-scale.ts and its test) so both fit the suite's budget. `npm run drill -- --all` runs
// every drill, on the shipped timings by default.

describe('fire drills (live, compressed clock)', function () {
  this.timeout(240_000);
  let stack: DrillStack;

  before(async () => {
    stack = await startDrillStack({ timeScale: 1 / 60 });
  });
  after(async () => {
    await stack?.stop();
  });

  it('Redis down tickets and a query 5xx burn pages, each resolved once the fault is removed', async () => {
    const [redisTraffic, queryTraffic] = await Promise.all([
      startTraffic(stack.serviceUrl),
      startTraffic(stack.serviceUrl),
    ]);
    let results: FireDrillResult[];
    try {
      results = await Promise.all([
        runFireDrill(stack, redisTraffic, fireDrill('redis-down')),
        runFireDrill(stack, queryTraffic, fireDrill('query-availability')),
      ]);
    } finally {
      await Promise.all([redisTraffic.stop(), queryTraffic.stop()]);
    }
    const [redis, query] = results;
    assert.equal(redis.receiver, receivers.ticket);
    assert.deepEqual(redis.integrations, ['slack']);
    assert.equal(query.receiver, receivers.page);
    assert.deepEqual(query.integrations, ['pagerduty', 'slack']);
    console.log(
      results
        .map(
          (r) =>
            `      ${r.alert}/${r.severity}: time-to-page ${(r.timeToPageMs / 1000).toFixed(1)} s, to resolve ${(r.timeToResolveMs / 1000).toFixed(1)} s (clock x${r.timeScale.toFixed(4)})`,
        )
        .join('\n'),
    );
  });

  it('the Watchdog reaches the heartbeat receiver', async () => {
    const beat = await eventually(
      () => stack.receiver.notifications.find((n) => n.alertname === 'Watchdog'),
      { timeoutMs: 30_000, intervalMs: 250, what: 'a Watchdog heartbeat' },
    );
    assert.equal(beat.receiver, receivers.heartbeat);
    assert.equal(beat.integration, 'webhook');
    assert.equal(beat.status, 'firing');
  });

  it('every runbook command the local stack can run succeeds against it', async () => {
    const traffic = await startTraffic(stack.serviceUrl);
    try {
      const runs = await runLocalCommands(stack, await prepareCommandContext(stack, traffic));
      const failed = runs
        .filter((r) => r.outcome === 'failed')
        .map((r) => `${r.file}:${r.line}: ${r.ran}\n    ${r.detail}`);
      assert.deepEqual(failed, []);
      const ran = runs.filter((r) => r.outcome === 'ok');
      for (const tool of ['curl', 'amtool']) {
        assert.ok(
          ran.some((r) => r.ran?.startsWith(tool)),
          `no ${tool} command ran`,
        );
      }
      assert.ok(
        ran.some((r) => r.kind === 'promql'),
        'no PromQL ran',
      );
      console.log(
        `      ${ran.length} runbook commands and queries ran; ${runs.length - ran.length} need a cluster or cloud`,
      );
    } finally {
      await traffic.stop();
    }
  });

  it('nothing reached the receiver that it could not decode', () => {
    assert.deepEqual(stack.receiver.undecoded, []);
  });
});
