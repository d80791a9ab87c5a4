// Where Alertmanager finds its receiver credentials. prometheus-operator mounts every Secret listed
// in `alertmanagerSpec.secrets` at /etc/alertmanager/secrets/<secret-name>/<key>; infra/ creates
// the Secret under this name and lists it, and the generated config reads its files from there.

/** Name of the Kubernetes Secret holding one key per receiver credential file. */
export const alertmanagerReceiverSecret = 'alertmanager-receivers';

/** Where prometheus-operator mounts the Secrets named in `alertmanagerSpec.secrets`. */
export const operatorSecretsMountRoot = '/etc/alertmanager/secrets';

/** Directory the generated config reads every `*_file` from. */
export const receiverSecretsDir = `${operatorSecretsMountRoot}/${alertmanagerReceiverSecret}`;

/** The credential files the receivers read: one key each in the receivers Secret. */
export const receiverSecretFiles = {
  pagerDutyRoutingKey: 'pagerduty-routing-key',
  slackWebhookUrl: 'slack-webhook-url',
  smtpPassword: 'smtp-password',
  /**
   * The external dead-man's switch's ping URL (a healthchecks.io check, Dead Man's Snitch, or any
   * service that alerts when pings stop). Its token is a credential: whoever holds it can keep a
   * dead pipeline looking alive.
   */
  deadMansSwitchUrl: 'deadmans-switch-url',
} as const;
