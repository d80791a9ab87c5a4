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

// Alertmanager routing. This team's alerts (label team=<ours>): critical pages (PagerDuty +
// Slack), warning and anything without a known severity becomes a ticket (Slack + email), info
// goes nowhere, the Watchdog feeds an external dead-man's switch. Everything else Prometheus
// evaluates (kube-prometheus-stack's default rules, other teams' PrometheusRules) goes to the
// cluster's channel and never pages this team. Secrets are files mounted from a Kubernetes
// secret, never values in this config. Every setting a test needs to redirect is an option, so
// tests run the same generator against local receivers.
//
// The dead-man's switch is an external service (a healthchecks.io-style ping URL, per stack, a
// receiver secret), not something in the cluster: an in-cluster checker dies with the cluster,
// the node pool or the network it would have to report. The service alerts its own way (its
// PagerDuty integration) when the minutely ping stops. `url_file` needs Alertmanager >= 0.26: infra
// pins the deployed Alertmanager, and the tests' amtool, to the same version.

export interface AlertmanagerOptions {
  readonly secretsDir: string;
  readonly pagerDutyUrl?: string;
  readonly smtpSmarthost: string;
  /**
   * A literal heartbeat URL instead of the secret file, for local Alertmanagers older than 0.26
   * (Debian's 0.25 in the live tests), which have no webhook `url_file`.
   */
  readonly heartbeatUrl?: string;
  readonly groupWait: string;
  readonly groupInterval: string;
  readonly windows: readonly MaintenanceWindow[];
}

export const defaultAlertmanagerOptions: AlertmanagerOptions = {
  // The Secret's mount point in the Alertmanager pods, so the config ships as generated.
  secretsDir: receiverSecretsDir,
  smtpSmarthost: 'smtp.rag.internal:587',
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

/** Labels every alert this team's rules carry (alerts/src/render): what makes an alert ours. */
export const ownAlertMatcher = `team="${serviceIdentity.team}"`;

/**
 * kube-prometheus-stack's InfoInhibitor fires while a namespace has only info alerts; its
 * documented use is an inhibition of those info alerts. Ours never reach anyone anyway, and the
 * Watchdog is info: limiting the inhibition to foreign alerts keeps it off the heartbeat.
 */
function infoInhibitorRule() {
  return {
    source_matchers: ['alertname="InfoInhibitor"'],
    target_matchers: ['severity="info"', `team!="${serviceIdentity.team}"`],
    equal: ['namespace'],
  };
}

export function alertmanagerConfig(options: Partial<AlertmanagerOptions> = {}) {
  const o = { ...defaultAlertmanagerOptions, ...options };
  const secret = (name: string) => `${o.secretsDir}/${name}`;
  const muted = o.windows.map((w) => w.name);
  const ticket = { receiver: receivers.ticket, repeat_interval: '12h', mute_time_intervals: muted };
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
      // Never reached: every alert is either ours or foreign (the two routes below). The root
      // may not carry a mute, so nothing should rely on it.
      receiver: receivers.foreign,
      group_by: ['alertname', 'namespace', 'slo'],
      group_wait: o.groupWait,
      group_interval: o.groupInterval,
      repeat_interval: '4h',
      routes: [
        {
          receiver: receivers.heartbeat,
          matchers: ['alertname="Watchdog"', ownAlertMatcher],
          group_wait: '0s',
          group_interval: '1m',
          repeat_interval: '1m',
        },
        {
          // kube-prometheus-stack's own Watchdog (ours feeds the dead-man's switch) and its
          // InfoInhibitor (only an inhibition source): both always fire and must reach nobody.
          receiver: receivers.none,
          matchers: ['alertname=~"Watchdog|InfoInhibitor"'],
        },
        {
          // Ours. Anything without a known severity (or none at all) stays here: a ticket,
          // muted in maintenance windows like any other ticket.
          ...ticket,
          matchers: [ownAlertMatcher],
          routes: [
            { receiver: receivers.page, matchers: ['severity="critical"'], repeat_interval: '1h' },
            { ...ticket, matchers: ['severity="warning"'] },
            { receiver: receivers.none, matchers: ['severity="info"'], mute_time_intervals: muted },
            { ...ticket, matchers: ['severity=""'] },
          ],
        },
        {
          // Foreign: the cluster's channel. Their pages stay unmuted; info and none go nowhere.
          receiver: receivers.foreign,
          matchers: [`team!="${serviceIdentity.team}"`],
          mute_time_intervals: muted,
          routes: [
            { receiver: receivers.foreign, matchers: ['severity="critical"'] },
            {
              receiver: receivers.none,
              matchers: ['severity=~"info|none"'],
              mute_time_intervals: muted,
            },
          ],
        },
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
      infoInhibitorRule(),
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
        webhook_configs: [
          {
            ...(o.heartbeatUrl
              ? { url: o.heartbeatUrl }
              : { url_file: secret(receiverSecretFiles.deadMansSwitchUrl) }),
            send_resolved: false,
          },
        ],
      },
      {
        name: receivers.foreign,
        slack_configs: [slack('#cluster-alerts')],
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
