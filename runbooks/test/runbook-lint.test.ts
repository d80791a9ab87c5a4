import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { analyzeQuery, knownMetrics } from '../../catalog/promql/query-analysis';
import { runbookPath } from '../../catalog/service-identity';
import { procedures } from '../procedures';
import { shippedRules } from './support/shipped-rules';

const root = path.resolve(__dirname, '../..');
const requiredSections = ['Meaning', 'Impact', 'Diagnosis', 'Mitigation', 'Escalation'];

function runbooks(): { file: string; text: string }[] {
  return ['alerts', 'procedures'].flatMap((dir) =>
    readdirSync(path.join(root, 'runbooks', dir))
      .filter((f) => f.endsWith('.md'))
      .map((f) => ({
        file: `runbooks/${dir}/${f}`,
        text: readFileSync(path.join(root, 'runbooks', dir, f), 'utf8'),
      })),
  );
}

describe('runbook lint', () => {
  it('every alert has a runbook', () => {
    for (const a of new Set(shippedRules(root).flatMap((r) => (r.alert ? [r.alert] : [])))) {
      assert.ok(existsSync(path.join(root, runbookPath(a))), `${a} has no runbook`);
    }
  });

  it('every procedure runbook is declared and every declared procedure has its runbook', () => {
    const books = readdirSync(path.join(root, 'runbooks/procedures')).filter((f) =>
      f.endsWith('.md'),
    );
    assert.deepEqual(books.sort(), procedures.map((p) => `${p.id}.md`).sort());
  });

  it('every runbook has the sections Meaning, Impact, Diagnosis, Mitigation, Escalation in order', () => {
    for (const { file, text } of runbooks()) {
      const sections = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1].trim());
      assert.deepEqual(sections, requiredSections, file);
      for (const s of requiredSections) {
        const body = text.split(`## ${s}`)[1].split(/^## /m)[0].trim();
        assert.ok(body.length > 20, `${file}: section ${s} is empty filler`);
      }
    }
  });

  it('every alert runbook links back to the file that defines the alert', () => {
    for (const { file, text } of runbooks().filter((r) => r.file.includes('/alerts/'))) {
      const links = [
        ...text.matchAll(/\]\((\.\.\/\.\.\/(?:alerts\/src|catalog)\/[^)]+\.ts)\)/g),
      ].map((m) => m[1]);
      assert.ok(links.length > 0, `${file}: no link to its alert definition`);
      for (const l of links) {
        const target = path.resolve(path.dirname(path.join(root, file)), l);
        assert.ok(existsSync(target), `${file}: broken link ${l}`);
        const alert = path.basename(file, '.md');
        assert.ok(
          readFileSync(target, 'utf8').includes(`'${alert}'`) || alert.endsWith('BudgetBurn'),
        );
      }
    }
  });

  it('every PromQL snippet parses and names only known metrics or recorded series', () => {
    const known = knownMetrics();
    const recorded = new Set(shippedRules(root).flatMap((r) => (r.record ? [r.record] : [])));
    for (const { file, text } of runbooks()) {
      for (const block of text.matchAll(/```promql\n([\s\S]*?)```/g)) {
        const a = analyzeQuery(block[1].trim());
        assert.deepEqual(a.syntaxErrors, [], `${file}: ${block[1]}`);
        for (const m of a.metrics) {
          assert.ok(known.has(m.name) || recorded.has(m.name), `${file}: unknown metric ${m.name}`);
        }
      }
    }
  });
});
