import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { repoRoot, runStack, stacks, type CapturedResource } from './support/stack-under-mocks';

// kube-score (scripts/tools/kube-score.sh, pinned) over every Kubernetes object the program
// declares, per stack, as captured under Pulumi's mocks. Helm releases are installed in-cluster
// and not rendered here. Every finding is fixed or listed with its reason in the allowlist.

interface AllowEntry {
  check: string;
  objects: string[];
  reason: string;
}
interface Finding {
  object: string;
  check: string;
}
interface ScoredObject {
  type_meta: { kind: string };
  object_meta: { name: string; namespace?: string };
  checks: { check: { id: string }; grade: number; skipped: boolean }[];
}

const allowlistFile = path.join(repoRoot, 'infra/kube-score-allowlist.yaml');
const allowlist = parse(readFileSync(allowlistFile, 'utf8')) as AllowEntry[];
// kube-score's grades: 1 critical, 5 warning, 7 almost OK, 10 OK.
const findingGrade = 5;

const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );
const allows = (entry: AllowEntry, f: Finding) =>
  entry.check === f.check && entry.objects.some((o) => glob(o).test(f.object));

function manifest(r: CapturedResource): Record<string, unknown> | undefined {
  const m = /^kubernetes:([^:]+):(\w+)$/.exec(r.type);
  if (!m || m[1] === 'helm.sh/v3' || m[1] === 'index') return undefined;
  const apiVersion = m[1].startsWith('core/') ? m[1].slice('core/'.length) : m[1];
  // Objects Pulumi auto-names carry no metadata.name in their inputs.
  return { apiVersion, kind: m[2], ...r.inputs, metadata: { name: r.name, ...r.inputs.metadata } };
}

function score(objects: Record<string, unknown>[]): Finding[] {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'kube-score-')), 'objects.yaml');
  // JSON documents: kube-score's YAML 1.1 parser would read an unquoted `yes` argument as a bool.
  writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n---\n'));
  const result = spawnSync('kube-score', ['score', '--output-format', 'json', file], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(result.error, undefined, 'kube-score not found: run scripts/ensure-tools.sh');
  assert.ok(result.stdout.startsWith('['), `kube-score failed: ${result.stderr}`);
  const scored = JSON.parse(result.stdout) as ScoredObject[];
  return scored.flatMap((o) =>
    o.checks
      .filter((c) => !c.skipped && c.grade <= findingGrade)
      .map((c) => ({
        object: `${o.type_meta.kind}/${o.object_meta.namespace ?? ''}/${o.object_meta.name}`,
        check: c.check.id,
      })),
  );
}

describe('infra kube-score', function () {
  this.timeout(120_000);
  const findings = new Map<string, Finding[]>();
  before(async () => {
    for (const stack of stacks) {
      const run = await runStack(stack);
      const objects = run.resources.flatMap((r) => {
        const m = manifest(r);
        return m ? [m] : [];
      });
      assert.ok(objects.length >= 20, `${stack}: only ${objects.length} objects`);
      findings.set(stack, score(objects));
    }
  });

  it('gives every allowlist entry a check, objects and a reason', () => {
    for (const e of allowlist) {
      assert.match(e.check, /^[a-z0-9-]+$/);
      assert.ok(e.objects.length > 0 && e.reason.length > 40, e.check);
    }
  });

  it('reports a finding kube-score would (the scorer is live)', () => {
    const [finding] = score([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'bare', namespace: 'x' },
        spec: {
          selector: { matchLabels: { app: 'bare' } },
          template: {
            metadata: { labels: { app: 'bare' } },
            spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
          },
        },
      },
    ]).filter((f) => f.check === 'container-resources');
    assert.deepEqual(finding, { object: 'Deployment/x/bare', check: 'container-resources' });
  });

  for (const stack of stacks) {
    it(`${stack}: has no finding outside the allowlist`, () => {
      const unexplained = findings
        .get(stack)!
        .filter((f) => !allowlist.some((e) => allows(e, f)))
        .map((f) => `${f.object}: ${f.check}`);
      assert.deepEqual(unexplained, []);
    });
  }

  it('lists only findings that still occur', () => {
    const all = [...findings.values()].flat();
    const stale = allowlist.flatMap((e) =>
      e.objects
        .filter((o) => !all.some((f) => f.check === e.check && glob(o).test(f.object)))
        .map((o) => `${e.check} ${o}`),
    );
    assert.deepEqual(stale, []);
  });
});
