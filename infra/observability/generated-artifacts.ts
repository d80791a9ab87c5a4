import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

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
  /** Base names of every `*_file` the Alertmanager config reads (receiver secrets). */
  readonly receiverSecretFiles: string[];
}

export const receiverSecretsDir = '/etc/alertmanager/secrets/alertmanager-receivers';

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
  const amText = readFileSync(amPath, 'utf8');
  const receiverSecretFiles = new Set<string>();
  const alertmanagerConfig = mountedSecretPaths(parse(amText), receiverSecretFiles) as Record<
    string,
    unknown
  >;
  const dashboards = list(dashboardsDir, '.json').map((file) => ({
    name: file.replace(/\.json$/, ''),
    json: readFileSync(path.join(dashboardsDir, file), 'utf8'),
  }));
  return {
    ruleFiles,
    alertmanagerConfig,
    dashboards,
    receiverSecretFiles: [...receiverSecretFiles].sort(),
  };
}

/**
 * The generated config names the secret files it reads; where they are mounted is the cluster's
 * business (prometheus-operator mounts a Secret at /etc/alertmanager/secrets/<secret>/<key>), so
 * every `*_file` is pointed at its file name inside the one receivers Secret.
 */
function mountedSecretPaths(node: unknown, found: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => mountedSecretPaths(n, found));
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => {
      if (!key.endsWith('_file') || typeof value !== 'string')
        return [key, mountedSecretPaths(value, found)];
      const file = path.posix.basename(value);
      found.add(file);
      return [key, `${receiverSecretsDir}/${file}`];
    }),
  );
}
