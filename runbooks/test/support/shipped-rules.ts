import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

// The rules as alerts/ ships them (alerts/generated/*.rules.yaml, what Prometheus loads): runbooks
// are checked against the artifact on-call is paged by, not against alerts' TypeScript.

export interface ShippedRule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
}

export function shippedRules(repoRoot: string): ShippedRule[] {
  const dir = path.join(repoRoot, 'alerts/generated');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.rules.yaml'))
    .flatMap((f) => {
      const doc = parse(readFileSync(path.join(dir, f), 'utf8')) as {
        groups: { rules: ShippedRule[] }[];
      };
      return doc.groups.flatMap((g) => g.rules);
    });
}
