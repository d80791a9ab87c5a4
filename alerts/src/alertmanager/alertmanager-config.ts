import { stringify } from 'yaml';
import { allAlerts, generatedHeader } from '../render/rule-files';
import { serviceIdentity } from '../../../catalog/service-identity';
import {
  receiverSecretFiles,
  receiverSecretsDir,
} from '../../../catalog/alerting/receiver-secrets';
import { receivers } from '../../../catalog/alerting/receivers';
import {
  maintenanceWindows,
  type MaintenanceWindow,
} from '../../../catalog/alerting/maintenance-windows';

// Alertmanager routing: critical pages (PagerDuty + Slack), warning becomes a ticket (Slack +
// email), info goes nowhere, the Watchdog feeds a heartbeat. Secrets are files mounted from a
// Kubernetes secret, never values in this config. Every setting a test needs to redirect is an
// option, so tests run the same generator against local receivers.

export interface AlertmanagerOptions {
  readonly secretsDir: string;
  readonly pagerDutyUrl?: string;
  readonly smtpSmarthost: string;
  readonly heartbeatUrl: string;
  readonly groupWait: string;
  readonly groupInterval: string;
  readonly windows: readonly MaintenanceWindow[];
}

export const defaultAlertmanagerOptions: AlertmanagerOptions = {
  // The Secret's mount point in the Alertmanager pods, so the config ships as generated.
  secretsDir: receiverSecretsDir,
  smtpSmarthost: 'smtp.rag.internal:587',
  // Alertmanager 0.25 (the version amtool checks with) has no webhook url_file; the heartbeat
  // endpoint is an in-cluster service, not a credential.
  heartbeatUrl: 'http://alert-heartbeat.monitoring.svc:8080/ping',
  groupWait: '30s',
  groupInterval: '5m',
  windows: maintenanceWindows,
};

/** Dependency-down alerts mute the symptoms they cause (declared on each alert's `inhibits`). */
function dependencyInhibitions() {
  const seen = new Set<string>();
  return allAlerts().flatMap((a) => {
    if (!a.inhibits?.length || seen.has(a.alert)) return [];
    seen.add(a.alert);
    return [
      {
        source_matchers: [`alertname="${a.alert}"`],
        target_matchers: [`alertname=~"${[...a.inhibits].sort().join('|')}"`],
        equal: ['service'],
      },
    ];
  });
}

export function alertmanagerConfig(options: Partial<AlertmanagerOptions> = {}) {
  const o = { ...defaultAlertmanagerOptions, ...options };
  const secret = (name: string) => `${o.secretsDir}/${name}`;
  const muted = o.windows.map((w) => w.name);
  return {
    global: {
      resolve_timeout: '5m',
      smtp_smarthost: o.smtpSmarthost,
      smtp_from: `alertmanager@rag.internal`,
      smtp_auth_username: 'alertmanager',
      smtp_auth_password_file: secret(receiverSecretFiles.smtpPassword),
      smtp_require_tls: true,
      slack_api_url_file: secret(receiverSecretFiles.slackWebhookUrl),
      ...(o.pagerDutyUrl ? { pagerduty_url: o.pagerDutyUrl } : {}),
    },
    route: {
      // Unknown severities still reach humans.
      receiver: receivers.ticket,
      group_by: ['alertname', 'namespace', 'slo'],
      group_wait: o.groupWait,
      group_interval: o.groupInterval,
      repeat_interval: '4h',
      routes: [
        {
          receiver: receivers.heartbeat,
          matchers: ['alertname="Watchdog"'],
          group_wait: '0s',
          group_interval: '1m',
          repeat_interval: '1m',
        },
        { receiver: receivers.page, matchers: ['severity="critical"'], repeat_interval: '1h' },
        {
          receiver: receivers.ticket,
          matchers: ['severity="warning"'],
          repeat_interval: '12h',
          mute_time_intervals: muted,
        },
        { receiver: receivers.none, matchers: ['severity="info"'], mute_time_intervals: muted },
      ],
    },
    inhibit_rules: [
      {
        // A page already covers the ticket of the same alert (e.g. an SLO burning fast and slow).
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ['alertname', 'service', 'namespace', 'slo'],
      },
      ...dependencyInhibitions(),
    ],
    receivers: [
      { name: receivers.none },
      {
        name: receivers.page,
        pagerduty_configs: [
          {
            routing_key_file: secret(receiverSecretFiles.pagerDutyRoutingKey),
            severity: 'critical',
            description: '{{ .CommonAnnotations.summary }}',
            links: [
              { href: '{{ .CommonAnnotations.runbook_url }}', text: 'Runbook' },
              { href: '{{ .CommonAnnotations.dashboard_url }}', text: 'Dashboard' },
            ],
          },
        ],
        slack_configs: [slack('#rag-incidents')],
      },
      {
        name: receivers.ticket,
        slack_configs: [slack('#rag-alerts')],
        email_configs: [{ to: `${serviceIdentity.team}@rag.internal`, send_resolved: true }],
      },
      {
        name: receivers.heartbeat,
        webhook_configs: [{ url: o.heartbeatUrl, send_resolved: false }],
      },
    ],
    time_intervals: o.windows.map((w) => ({ name: w.name, time_intervals: w.timeIntervals })),
  };
}

function slack(channel: string) {
  return {
    channel,
    send_resolved: true,
    title:
      '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}',
    text: '{{ range .Alerts }}{{ .Annotations.description }}\n{{ end }}',
    actions: [
      { type: 'button', text: 'Runbook', url: '{{ .CommonAnnotations.runbook_url }}' },
      { type: 'button', text: 'Dashboard', url: '{{ .CommonAnnotations.dashboard_url }}' },
    ],
  };
}

export function renderAlertmanagerConfig(options: Partial<AlertmanagerOptions> = {}): string {
  return generatedHeader + stringify(alertmanagerConfig(options), { lineWidth: 0 });
}
