import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { receivers } from '../../../catalog/alerting/receivers';
import { eventually } from '../../../test-support/eventually';
import { shippedAlertmanagerConfig, type DrillStack } from '../stack/drill-stack';
import { repoRoot } from '../stack/processes';
import { durationMs } from '../stack/time-scale';
import type { Notification } from '../stack/webhook-receiver';
import type { FireDrill } from './fire-drills';
import { expectedLabels, shippedAlert } from './shipped-alerts';
import type { Traffic } from './traffic';

// One fire drill, end to end: inject the fault, wait for the page (or ticket) at the webhook
// receiver, check it is the right receiver with the alert's labels and its runbook and dashboard
// links, remove the fault, wait for the resolved notification. Time-to-page is from the injection
// to the first notification; time-to-resolve from the removal to the resolved one.

export interface FireDrillResult {
  readonly drill: string;
  readonly alert: string;
  readonly severity: string;
  /** The alert that reached on-call instead, when the drilled one is inhibited. */
  readonly deliveredAs?: string;
  readonly receiver: string;
  readonly integrations: string[];
  readonly timeToPageMs: number;
  readonly timeToResolveMs: number;
  readonly timeScale: number;
}

/** The receiver the routing policy means for a severity. */
export function intendedReceiver(severity: string): string {
  return severity === 'critical' ? receivers.page : receivers.ticket;
}

/** The integrations of a receiver that a drill can observe (email needs an SMTP relay with STARTTLS). */
export function observableIntegrations(receiver: string): Notification['integration'][] {
  const config = parse(readFileSync(path.join(repoRoot, shippedAlertmanagerConfig), 'utf8')) as {
    receivers: Record<string, unknown>[];
  };
  const r = config.receivers.find((x) => x.name === receiver) ?? {};
  return (
    [
      ['pagerduty_configs', 'pagerduty'],
      ['slack_configs', 'slack'],
      ['webhook_configs', 'webhook'],
    ] as const
  )
    .filter(([key]) => Array.isArray(r[key]))
    .map(([, integration]) => integration);
}

/** How long the shipped timings allow, on the drill's clock, plus real-time value thresholds. */
function budgets(drill: FireDrill, scale: number) {
  const alert = shippedAlert(drill.alert, drill.severity);
  const forMs = alert.for ? durationMs(alert.for) : 0;
  // The longest window among the SLO alerts (the page's 30m/6h pair clears only as the 30m empties).
  const windows = [...alert.expr.matchAll(/ratio_rate(\d+[smhd])/g)].map((m) => durationMs(m[1]));
  const longWindow = windows.length ? Math.min(Math.max(...windows), durationMs('30m')) : 0;
  const am = durationMs('30s') + durationMs('5m');
  return {
    fireMs: 90_000 + (forMs + am) * scale * 2 + (drill.realTimeMs ?? 0),
    resolveMs:
      90_000 + (longWindow + 2 * durationMs('5m') + forMs) * scale * 2 + (drill.realTimeMs ?? 0),
  };
}

function check(problems: string[], drill: FireDrill, notification: Notification): void {
  const alert = shippedAlert(drill.alert, drill.severity);
  const where = `${notification.integration} ${notification.status}`;
  if (notification.runbookUrl !== alert.annotations.runbook_url) {
    problems.push(
      `${where}: runbook link ${notification.runbookUrl} ≠ ${alert.annotations.runbook_url}`,
    );
  }
  if (notification.dashboardUrl !== alert.annotations.dashboard_url) {
    problems.push(
      `${where}: dashboard link ${notification.dashboardUrl} ≠ ${alert.annotations.dashboard_url}`,
    );
  }
  if (notification.labels) {
    for (const [k, v] of Object.entries(expectedLabels(alert))) {
      if (notification.labels[k] !== v)
        problems.push(`${where}: label ${k}=${notification.labels[k]} ≠ ${v}`);
    }
  }
}

export async function runFireDrill(
  stack: DrillStack,
  traffic: Traffic,
  drill: FireDrill,
  log: (line: string) => void = () => undefined,
): Promise<FireDrillResult> {
  // What reaches on-call: the drilled alert, or the one that inhibits it on this fault.
  const delivered = drill.inhibitedBy ?? { alert: drill.alert, severity: drill.severity };
  const deliveredDrill = { ...drill, ...delivered };
  const receiver = intendedReceiver(delivered.severity);
  const integrations = observableIntegrations(receiver);
  const { fireMs, resolveMs } = budgets(drill, stack.timeScale);
  const ours = (n: Notification, status: Notification['status'], since: number) =>
    n.alertname === delivered.alert && n.status === status && n.at >= since;
  const problems: string[] = [];

  log(`${drill.name}: injecting: ${drill.fault}`);
  const injectedAt = Date.now();
  let removed = false;
  try {
    await drill.inject({ stack, traffic });
    const firing = await eventually(
      () => {
        const got = stack.receiver.notifications.filter((n) => ours(n, 'firing', injectedAt));
        return integrations.every((i) => got.some((n) => n.integration === i)) ? got : undefined;
      },
      {
        timeoutMs: fireMs,
        intervalMs: 250,
        what: `${delivered.alert} firing at ${integrations.join(' and ')}`,
      },
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}\nreceived: ${JSON.stringify(stack.receiver.notifications.filter((n) => n.alertname !== 'Watchdog').slice(-10))}`,
      );
    });
    const pagedAt = Math.min(...firing.map((n) => n.at));
    for (const n of firing) {
      if (n.receiver !== receiver) {
        problems.push(`${n.integration}: sent by ${n.receiver}, not ${receiver}`);
      }
      check(problems, deliveredDrill, n);
    }
    // Labels for integrations that do not carry them (Slack): what Alertmanager routed, by receiver.
    const routed = (await stack.alertmanagerAlerts()).filter(
      (a) => a.labels.alertname === delivered.alert && a.labels.severity === delivered.severity,
    );
    if (!routed.length) problems.push('Alertmanager holds no such alert');
    for (const a of routed) {
      for (const [k, v] of Object.entries(
        expectedLabels(shippedAlert(delivered.alert, delivered.severity)),
      )) {
        if (a.labels[k] !== v) problems.push(`alertmanager: label ${k}=${a.labels[k]} ≠ ${v}`);
      }
      if (!a.receivers.some((r) => r.name === receiver)) {
        problems.push(
          `alertmanager: routed to ${a.receivers.map((r) => r.name).join(',')}, not ${receiver}`,
        );
      }
    }
    if (drill.inhibitedBy) {
      // The drilled alert itself is active in Alertmanager, and muted by the inhibitor.
      await eventually(
        async () =>
          (await stack.alertmanagerAlerts()).some(
            (a) =>
              a.labels.alertname === drill.alert &&
              a.labels.severity === drill.severity &&
              a.status.state === 'suppressed' &&
              a.status.inhibitedBy.length > 0,
          ),
        {
          timeoutMs: fireMs,
          intervalMs: 250,
          what: `${drill.alert} active and inhibited by ${delivered.alert}`,
        },
      );
      if (
        stack.receiver.notifications.some((n) => n.alertname === drill.alert && n.at >= injectedAt)
      ) {
        problems.push(`${drill.alert} reached a receiver although ${delivered.alert} inhibits it`);
      }
    }
    log(
      `${drill.name}: ${delivered.alert} reached ${receiver} after ${((pagedAt - injectedAt) / 1000).toFixed(1)} s${drill.inhibitedBy ? ` (${drill.alert} active, inhibited)` : ''}; removing the fault`,
    );

    const removedAt = Date.now();
    removed = true;
    await drill.remove({ stack, traffic });
    const resolved = await eventually(
      () => {
        const got = stack.receiver.notifications.filter((n) => ours(n, 'resolved', removedAt));
        return integrations.every((i) => got.some((n) => n.integration === i)) ? got : undefined;
      },
      {
        timeoutMs: resolveMs,
        intervalMs: 250,
        what: `${delivered.alert} resolved at ${integrations.join(' and ')}`,
      },
    );
    for (const n of resolved) check(problems, deliveredDrill, n);
    if (problems.length) throw new Error(`${drill.name}:\n  ${problems.join('\n  ')}`);
    const result = {
      drill: drill.name,
      alert: drill.alert,
      severity: drill.severity,
      ...(drill.inhibitedBy ? { deliveredAs: delivered.alert } : {}),
      receiver,
      integrations,
      timeToPageMs: pagedAt - injectedAt,
      timeToResolveMs: Math.min(...resolved.map((n) => n.at)) - removedAt,
      timeScale: stack.timeScale,
    };
    log(`${drill.name}: resolved after ${(result.timeToResolveMs / 1000).toFixed(1)} s`);
    return result;
  } finally {
    // A failed drill never leaves its fault behind on the shared servers.
    if (!removed) await drill.remove({ stack, traffic }).catch(() => undefined);
    traffic.set({ queriesPerSecond: 0, ingestsPerSecond: 0, uniqueQueries: false });
  }
}
