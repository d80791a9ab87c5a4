import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { receiverSecretsDir } from '../../catalog/alerting/receiver-secrets';

// The files alerts/ and dashboards/ generate (`npm run gen`) and commit; infra ships them as they
// are. Read here, at program start, so a missing generation fails the preview instead of shipping
// a monitoring stack without rules.

export interface RuleFile {
  /** File name without `.rules.yaml`, used to name the PrometheusRule. */
  readonly name: string;
  readonly groups: unknown[];
}

export interface DashboardFile {
  readonly name: string;
  readonly json: string;
}

export interface GeneratedArtifacts {
  readonly ruleFiles: RuleFile[];
  readonly alertmanagerConfig: Record<string, unknown>;
  readonly dashboards: DashboardFile[];
  /** Keys of the receivers Secret: the base names of every `*_file` the Alertmanager config reads. */
  readonly receiverSecretFiles: string[];
  /** The canary's AnalysisTemplate metrics (SLO burn rates), less the Prometheus address. */
  readonly canaryAnalysis: CanaryAnalysis;
}

export interface CanaryAnalysisMetric {
  readonly name: string;
  readonly successCondition: string;
  readonly provider: { readonly prometheus: { readonly query: string } };
  readonly [field: string]: unknown;
}

export interface CanaryAnalysis {
  readonly metrics: CanaryAnalysisMetric[];
}

export function loadGeneratedArtifacts(repoRoot: string): GeneratedArtifacts {
  const alertsDir = path.join(repoRoot, 'alerts', 'generated');
  const dashboardsDir = path.join(repoRoot, 'dashboards', 'generated');
  const list = (dir: string, suffix: string) => {
    const files = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith(suffix))
          .sort()
      : [];
    if (files.length === 0)
      throw new Error(`no ${suffix} files in ${dir}: run \`npm run gen\` and commit the output`);
    return files;
  };

  const ruleFiles = list(alertsDir, '.rules.yaml').map((file) => {
    const doc = parse(readFileSync(path.join(alertsDir, file), 'utf8')) as { groups?: unknown[] };
    if (!Array.isArray(doc?.groups))
      throw new Error(`${file}: expected a Prometheus rule file with groups`);
    return { name: file.replace(/\.rules\.yaml$/, ''), groups: doc.groups };
  });
  const amPath = path.join(alertsDir, 'alertmanager.yaml');
  if (!existsSync(amPath)) throw new Error(`missing ${amPath}: run \`npm run gen\``);
  const alertmanagerConfig = parse(readFileSync(amPath, 'utf8')) as Record<string, unknown>;
  const dashboards = list(dashboardsDir, '.json').map((file) => ({
    name: file.replace(/\.json$/, ''),
    json: readFileSync(path.join(dashboardsDir, file), 'utf8'),
  }));
  const canaryPath = path.join(alertsDir, 'canary-analysis.yaml');
  if (!existsSync(canaryPath)) throw new Error(`missing ${canaryPath}: run \`npm run gen\``);
  const canaryAnalysis = parse(readFileSync(canaryPath, 'utf8')) as CanaryAnalysis;
  if (!Array.isArray(canaryAnalysis?.metrics) || canaryAnalysis.metrics.length === 0)
    throw new Error(`${canaryPath}: expected the canary analysis metrics`);
  return {
    ruleFiles,
    alertmanagerConfig,
    dashboards,
    receiverSecretFiles: receiverSecretKeys(alertmanagerConfig, amPath),
    canaryAnalysis,
  };
}

/**
 * The config is shipped unchanged, so every file it reads must already be inside the receivers
 * Secret's mount; anything else would start an Alertmanager that cannot read its credentials.
 */
function receiverSecretKeys(config: unknown, source: string): string[] {
  const keys = new Set<string>();
  const visit = (node: unknown, at: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => visit(n, `${at}[${i}]`));
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key.endsWith('_file') && typeof value === 'string') {
        if (path.posix.dirname(value) !== receiverSecretsDir)
          throw new Error(
            `${source}: ${at}.${key} reads ${value}, outside the receivers Secret mount ` +
              `${receiverSecretsDir}: regenerate with \`npm run gen\``,
          );
        keys.add(path.posix.basename(value));
      } else visit(value, `${at}.${key}`);
    }
  };
  visit(config, '');
  return [...keys].sort();
}
