import { createServer, type Server } from 'node:http';
import { freePort } from './processes';

// The drill's stand-in for PagerDuty, Slack and the heartbeat endpoint: an HTTP server recording
// every notification the real Alertmanager sends, decoded into what on-call would see: which
// receiver sent it, firing or resolved, the alert's labels and its runbook and dashboard links.

export interface Notification {
  /** When the receiver got it (ms since the epoch). */
  readonly at: number;
  readonly integration: 'pagerduty' | 'slack' | 'webhook';
  /** The Alertmanager receiver that sent it. */
  readonly receiver: string;
  readonly status: 'firing' | 'resolved';
  readonly alertname: string;
  /** Every label of the (first) alert, where the integration carries them (PagerDuty, webhook). */
  readonly labels?: Record<string, string>;
  readonly runbookUrl?: string;
  readonly dashboardUrl?: string;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly notifications: Notification[];
  /** Requests it could not decode, kept so a drill can fail with them. */
  readonly undecoded: string[];
  stop(): Promise<void>;
}

/** `Labels:\n - name = value\n...` blocks of Alertmanager's default text alert list. */
export function labelsFromAlertList(text: string): Record<string, string> {
  const block = /Labels:\n((?: - [^\n]*\n)*)/.exec(text);
  if (!block) return {};
  return Object.fromEntries(
    block[1]
      .split('\n')
      .map((l) => /^ - ([^=]+?) = (.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

interface PagerDutyEvent {
  event_action: 'trigger' | 'resolve';
  payload?: { custom_details?: { firing?: string; resolved?: string } };
  links?: { href: string; text: string }[];
}

interface SlackMessage {
  channel: string;
  attachments?: { title?: string; actions?: { text: string; url: string }[] }[];
}

interface WebhookMessage {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: { labels: Record<string, string>; annotations: Record<string, string> }[];
}

function decode(
  path: string,
  body: string,
  slackChannels: ReadonlyMap<string, string>,
): Omit<Notification, 'at'> | undefined {
  const [, kind, receiverName] = path.split('/');
  if (kind === 'pagerduty') {
    const event = JSON.parse(body) as PagerDutyEvent;
    const status = event.event_action === 'resolve' ? 'resolved' : 'firing';
    const details = event.payload?.custom_details ?? {};
    const labels = labelsFromAlertList(
      (status === 'firing' ? details.firing : details.resolved) ?? '',
    );
    const link = (text: string) => event.links?.find((l) => l.text === text)?.href;
    return {
      integration: 'pagerduty',
      receiver: receiverName,
      status,
      alertname: labels.alertname ?? '',
      labels,
      runbookUrl: link('Runbook'),
      dashboardUrl: link('Dashboard'),
    };
  }
  if (kind === 'slack') {
    const message = JSON.parse(body) as SlackMessage;
    const attachment = message.attachments?.[0] ?? {};
    const title = /^\[(FIRING|RESOLVED)\] ([^:]+):/.exec(attachment.title ?? '');
    const receiver = slackChannels.get(message.channel);
    if (!title || !receiver) return undefined;
    const action = (text: string) => attachment.actions?.find((a) => a.text === text)?.url;
    return {
      integration: 'slack',
      receiver,
      status: title[1] === 'RESOLVED' ? 'resolved' : 'firing',
      alertname: title[2],
      runbookUrl: action('Runbook'),
      dashboardUrl: action('Dashboard'),
    };
  }
  if (kind === 'webhook') {
    const message = JSON.parse(body) as WebhookMessage;
    const first = message.alerts[0];
    return {
      integration: 'webhook',
      receiver: message.receiver ?? receiverName,
      status: message.status,
      alertname: first?.labels.alertname ?? '',
      labels: first?.labels,
      runbookUrl: first?.annotations.runbook_url,
      dashboardUrl: first?.annotations.dashboard_url,
    };
  }
  return undefined;
}

/**
 * @param slackChannels channel → receiver, from the shipped config (every Slack config posts to
 *   the one global webhook URL, so the channel is what tells the receivers apart).
 */
export async function startWebhookReceiver(
  slackChannels: ReadonlyMap<string, string>,
): Promise<WebhookReceiver> {
  const notifications: Notification[] = [];
  const undecoded: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        const n = decode(req.url ?? '', body, slackChannels);
        if (n) notifications.push({ ...n, at: Date.now() });
        else undecoded.push(`${req.url}: ${body.slice(0, 500)}`);
      } catch (err) {
        undecoded.push(`${req.url}: ${String(err)}: ${body.slice(0, 500)}`);
      }
      // Answers as the real services do. Alertmanager (since 0.28) reads Slack's body: a plain
      // `ok`, or JSON with `"ok": true`; anything else is a failed notification it keeps retrying.
      if ((req.url ?? '').startsWith('/slack')) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      // PagerDuty's Events API answers 202 with this body; webhooks take any 2xx.
      res
        .writeHead(202, { 'content-type': 'application/json' })
        .end('{"status":"success","message":"Event processed"}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    notifications,
    undecoded,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
