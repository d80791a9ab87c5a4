/**
 * Derives the description of a chart's values (infra/charts/<chart>-<version>.values-keys.json)
 * from the chart at its release tag in a local git clone of the chart's repository. Run by hand
 * when a pinned chart version changes; the output is data (key paths), never the chart's text:
 *
 *   npx ts-node infra/charts/derive-values-keys.ts <git-dir> <tag> <chart-path> [prefix] > keys.json
 *
 * A key is read by the chart when it appears in its values.yaml (commented-out keys included:
 * charts document optional keys that way) or when a template reads it as `.Values.a.b`. A path is
 * "open" (any key below it is passed through) when its default is an empty map or list, or when a
 * template renders it whole (`toYaml .Values.a.b`, `with .Values.a.b` + `toYaml .`, `range ...
 * .Values.a.b`, `tpl`).
 */
import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';

export interface ValuesDescription {
  keys: string[];
  open: string[];
}

function git(gitDir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', gitDir, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

function walk(value: unknown, prefix: string, keys: Set<string>, open: Set<string>): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    open.add(prefix);
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0 && prefix) open.add(prefix);
  for (const [k, v] of entries) {
    const path = prefix ? `${prefix}.${k}` : k;
    keys.add(path);
    walk(v, path, keys, open);
  }
}

/** `# key: value` lines inside values.yaml: keys the chart documents but leaves unset. */
function commentedKeys(valuesYaml: string, keys: Set<string>): void {
  const stack: { indent: number; key: string }[] = [];
  for (const line of valuesYaml.split('\n')) {
    const live = /^(\s*)([A-Za-z0-9_.-]+):(\s|$)/.exec(line);
    const commented = /^(\s*)#\s?([A-Za-z_][A-Za-z0-9_]*):(\s|$)/.exec(line);
    const m = live ?? commented;
    if (!m) continue;
    const indent = m[1].length;
    while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
    const path = [...stack.map((s) => s.key), m[2]].join('.');
    if (commented) {
      // Only a commented key directly under a live parent (same indentation as its siblings).
      if (stack.length > 0 || indent === 0) keys.add(path);
      continue;
    }
    stack.push({ indent, key: m[2] });
  }
}

function templateReads(templates: string[], keys: Set<string>, open: Set<string>): void {
  const ref = String.raw`\$?\.Values((?:\.[A-Za-z0-9_]+)+)`;
  for (const text of templates) {
    for (const m of text.matchAll(new RegExp(ref, 'g'))) {
      const parts = m[1].slice(1).split('.');
      for (let i = 1; i <= parts.length; i++) keys.add(parts.slice(0, i).join('.'));
    }
    // `dig "a" "b" <default> .Values.x`: reads x.a.b (the last argument before the map is the default).
    for (const m of text.matchAll(
      new RegExp(String.raw`dig((?:\s+"[^"]*")+)\s+\S+\s+${ref}`, 'g'),
    )) {
      const base = m[2].slice(1).split('.');
      const path = [...base, ...[...m[1].matchAll(/"([^"]*)"/g)].map((q) => q[1])];
      for (let i = 1; i <= path.length; i++) keys.add(path.slice(0, i).join('.'));
    }
    for (const m of text.matchAll(
      new RegExp(String.raw`(?:toYaml|tpl|toJson)\s+\(?\s*${ref}`, 'g'),
    ))
      open.add(m[1].slice(1));
    for (const m of text.matchAll(new RegExp(String.raw`range\s+[^}]*?:=\s*${ref}`, 'g')))
      open.add(m[1].slice(1));
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const m = new RegExp(String.raw`with\s+${ref}\s*-?}}`).exec(line);
      if (
        m &&
        /toYaml\s+\.\s|toYaml\s+\.\)|tpl\s+\(toYaml\s+\.\)|\(\.\s*\|\s*toYaml\)/.test(
          lines.slice(i, i + 4).join('\n'),
        )
      )
        open.add(m[1].slice(1));
    });
  }
}

export function describeChart(valuesYaml: string, templates: string[]): ValuesDescription {
  const keys = new Set<string>();
  const open = new Set<string>();
  walk(parse(valuesYaml), '', keys, open);
  commentedKeys(valuesYaml, keys);
  // Charts render some values strings with `tpl` (tempo's `config`): what those read counts too.
  templateReads([valuesYaml, ...templates], keys, open);
  return { keys: [...keys].sort(), open: [...open].filter(Boolean).sort() };
}

if (require.main === module) {
  const [gitDir, tag, chartPath, prefix = ''] = process.argv.slice(2);
  const files = git(
    gitDir,
    'ls-tree',
    '-r',
    '--name-only',
    tag,
    chartPath === '.' ? 'templates' : `${chartPath}/templates`,
  )
    .split('\n')
    .filter((f) => /\.(yaml|yml|tpl|txt)$/.test(f));
  const templates = files.map((f) => git(gitDir, 'show', `${tag}:${f}`));
  const d = describeChart(
    git(
      gitDir,
      'show',
      chartPath === '.' ? `${tag}:values.yaml` : `${tag}:${chartPath}/values.yaml`,
    ),
    templates,
  );
  const p = (k: string) => (prefix ? `${prefix}.${k}` : k);
  process.stdout.write(
    JSON.stringify({ keys: d.keys.map(p), open: d.open.map(p) }, null, 1) + '\n',
  );
}
