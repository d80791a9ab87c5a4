import { grafanaBaseUrl } from '../../catalog/service-identity';

// alerts/ renders every dashboard_url against the catalog's Grafana base URL, one file for all
// stacks; each stack serves Grafana at its own host (observability.grafanaHost). The rules are
// shipped with that base replaced by the stack's Grafana, so a page from production opens
// production's dashboards. Nothing else in the rules changes.

export function grafanaUrlFor(host: string): string {
  return `https://${host}`;
}

/** The rule groups with each alert's dashboard_url moved onto this stack's Grafana. */
export function withStackDashboardLinks(groups: readonly unknown[], grafanaUrl: string): unknown[] {
  return groups.map((group) => {
    const g = group as { rules?: { annotations?: Record<string, string> }[] };
    if (!Array.isArray(g.rules)) return group;
    return {
      ...g,
      rules: g.rules.map((rule) => {
        const link = rule.annotations?.dashboard_url;
        if (link === undefined) return rule;
        if (!link.startsWith(`${grafanaBaseUrl}/`))
          throw new Error(
            `dashboard_url ${link} is not under ${grafanaBaseUrl}: regenerate with \`npm run gen\``,
          );
        return {
          ...rule,
          annotations: {
            ...rule.annotations,
            dashboard_url: grafanaUrl + link.slice(grafanaBaseUrl.length),
          },
        };
      }),
    };
  });
}
