import { serviceIdentity } from '../service-identity';

// How a trace finds its log lines and a log line its trace: the contract between the service's
// JSON log line (app/src/observability/logger.ts), the collector's labels and the Grafana data
// sources infra provisions. The live test runs these exact queries against a real Loki.

/** Grafana data source uids: the links between them name each other by these. */
export const dataSourceUids = { loki: 'loki', tempo: 'tempo' } as const;

/** The service's log field that carries the W3C trace id (32 lowercase hex digits). */
export const traceIdLogField = 'traceId';

/** The labels the collector gives every pod's log stream (from the pod's metadata). */
export const logStreamLabels = ['namespace', 'pod', 'container', 'app'] as const;

/** The stream selector of the service's log lines. */
export const serviceLogSelector = `{namespace="${serviceIdentity.namespace}"}`;

/**
 * Grafana expands `$VAR` and `${VAR}` in provisioning files as environment variables; `$$` is a
 * literal `$`. Grafana's own link variables (`${__trace.traceId}`) are therefore written `$${...}`.
 */
export function provisionedVariable(name: string): string {
  return `$\${${name}}`;
}

/** What Grafana makes of a provisioned string: `$$` is a literal `$` (no env var is set here). */
export function afterProvisioning(value: string): string {
  return value.replace(/\$\$|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g, (m) =>
    m === '$$' ? '$' : '',
  );
}

/** Trace -> logs (Tempo's tracesToLogsV2 custom query): every line carrying the span's trace id. */
export const tracesToLogsQuery =
  `${serviceLogSelector} |= "${provisionedVariable('__trace.traceId')}" ` +
  `| json | ${traceIdLogField}="${provisionedVariable('__trace.traceId')}"`;

/** Log line -> trace (Loki's derived field): the trace id in the service's JSON line. */
export const traceIdMatcherRegex = `"${traceIdLogField}":"([0-9a-f]{32})"`;
