import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './run-tool';

// The dashboards as dashboards/ ships them (dashboards/generated/*.json, what Grafana loads): the
// alerts' checks against dashboards read the artifact, not dashboards' TypeScript.

export interface ShippedDashboard {
  readonly uid: string;
  readonly panels?: readonly {
    readonly title?: string;
    readonly targets?: readonly { readonly expr: string }[];
  }[];
}

export function shippedDashboards(): ShippedDashboard[] {
  const dir = path.join(repoRoot, 'dashboards/generated');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as ShippedDashboard);
}
