import { readFileSync } from 'node:fs';

// Reads `pulumi preview --json` and renders a loud Markdown warning for every replace or delete
// of a resource that holds data, for the PR comment. Prints nothing when there is none.
//   node -r ts-node/register/transpile-only infra/scripts/stateful-changes.ts preview.json

const statefulTypes = new Set([
  'aws:rds/instance:Instance',
  'aws:elasticache/replicationGroup:ReplicationGroup',
  'aws:eks/cluster:Cluster',
  'aws:kms/key:Key',
  'aws:secretsmanager/secret:Secret',
  'kubernetes:core/v1:PersistentVolumeClaim',
  'kubernetes:core/v1:PersistentVolume',
  'kubernetes:apps/v1:StatefulSet',
  'kubernetes:core/v1:Namespace',
  'kubernetes:postgresql.cnpg.io/v1:Cluster',
]);
// Releases whose charts own volumes: replacing one drops them.
const statefulReleases = new Set(['qdrant', 'vault', 'monitoring', 'postgres-operator']);
const destructive = new Set([
  'replace',
  'create-replacement',
  'delete-replaced',
  'delete',
  'discard',
]);

export interface PreviewStep {
  op: string;
  urn: string;
}

export interface StatefulChange {
  op: string;
  type: string;
  name: string;
}

/** URNs are `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>`. */
function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split('::');
  const types = (parts[2] ?? '').split('$');
  return { type: types[types.length - 1], name: parts.slice(3).join('::') };
}

export function statefulChanges(steps: PreviewStep[]): StatefulChange[] {
  const seen = new Set<string>();
  const changes: StatefulChange[] = [];
  for (const step of steps) {
    if (!destructive.has(step.op)) continue;
    const { type, name } = parseUrn(step.urn);
    const stateful =
      statefulTypes.has(type) ||
      (type === 'kubernetes:helm.sh/v3:Release' && statefulReleases.has(name));
    if (!stateful || seen.has(step.urn)) continue;
    seen.add(step.urn);
    changes.push({ op: step.op.includes('replace') ? 'replace' : step.op, type, name });
  }
  return changes;
}

export function renderWarning(stack: string, changes: StatefulChange[]): string {
  if (changes.length === 0) return '';
  const rows = changes.map((c) => `| **${c.op.toUpperCase()}** | \`${c.type}\` | \`${c.name}\` |`);
  return [
    `> [!CAUTION]`,
    `> **${changes.length} stateful resource(s) would be replaced or deleted on \`${stack}\`.** Data may be lost. Do not merge without a restore plan.`,
    '',
    '| operation | type | name |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (require.main === module) {
  const [file, stack = 'stack'] = process.argv.slice(2);
  const preview = JSON.parse(readFileSync(file, 'utf8')) as { steps?: PreviewStep[] };
  process.stdout.write(renderWarning(stack, statefulChanges(preview.steps ?? [])));
}
