import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { serviceIdentity } from '../../../catalog/service-identity';
import { generatedRuleFiles } from '../stack/drill-stack';
import { repoRoot } from '../stack/processes';

// The alerting rules as shipped (alerts/generated), read as on-call's Prometheus reads them.

export interface ShippedAlert {
  readonly alert: string;
  readonly severity: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly file: string;
}

export function shippedAlerts(): ShippedAlert[] {
  return generatedRuleFiles().flatMap((file) => {
    const doc = parse(readFileSync(path.join(repoRoot, file), 'utf8')) as {
      groups: { rules: Record<string, unknown>[] }[];
    };
    return doc.groups.flatMap((g) =>
      g.rules
        .filter((r) => typeof r.alert === 'string')
        .map((r) => {
          const labels = (r.labels ?? {}) as Record<string, string>;
          return {
            alert: r.alert as string,
            severity: labels.severity ?? '',
            expr: String(r.expr),
            for: r.for as string | undefined,
            labels,
            annotations: (r.annotations ?? {}) as Record<string, string>,
            file,
          };
        }),
    );
  });
}

/** Key of one alerting rule: the same alert name may exist once per severity (page and ticket). */
export const alertKey = (a: { alert: string; severity: string }) => `${a.alert}/${a.severity}`;

export function shippedAlert(alert: string, severity: string): ShippedAlert {
  const found = shippedAlerts().find((a) => a.alert === alert && a.severity === severity);
  if (!found) throw new Error(`no shipped alert ${alert} with severity ${severity}`);
  return found;
}

/**
 * The labels Prometheus sends with the alert: the alert name, the rule's labels and, when the
 * expression keeps it, the namespace every scrape target carries.
 */
export function expectedLabels(a: ShippedAlert): Record<string, string> {
  const keepsNamespace = /\bby \([^)]*\bnamespace\b/.test(a.expr);
  return {
    alertname: a.alert,
    ...(keepsNamespace ? { namespace: serviceIdentity.namespace } : {}),
    ...a.labels,
  };
}
