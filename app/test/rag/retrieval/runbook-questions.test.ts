import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runbookQuestions } from '../../../bench/retrieval-quality/runbook-questions';

// The evaluation set stays honest: every question names a runbook that exists, and none borrows
// the words of its runbook's title (the one place a question would most naturally copy from), so
// a retriever earns its hits through what the runbooks say, as it must for a person who does not
// know the runbook's name.

const repoRoot = path.resolve(__dirname, '../../../..');

const stopwords = new Set(
  (
    'a an and are as at be but by can could did do does for from had has have how i if in into ' +
    'is it its me my no not of on or our should so than that the their them then there these ' +
    'they this to was we were what when where which who why will with would you your after'
  ).split(' '),
);

/** Lower-case words, CamelCase titles split (PostgresPrimaryDown → postgres primary down). */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0 && !stopwords.has(w));
}

/**
 * Deliberately stricter than any stemmer: words sharing their first five letters count as the
 * same word (ingest/ingestion, restore/restoring, embed/embedder_model), and a short title word
 * matches any question word that begins with it (pod/pods, down/downtime).
 */
export function sameWord(questionWord: string, titleWord: string): boolean {
  if (titleWord.length < 3) return false;
  if (titleWord.length < 5) return questionWord.startsWith(titleWord);
  return questionWord.length >= 5 && questionWord.slice(0, 5) === titleWord.slice(0, 5);
}

function titleOf(source: string): string {
  const content = readFileSync(path.join(repoRoot, source), 'utf8');
  return /^#\s+(.+)$/m.exec(content)?.[1]?.trim() ?? path.basename(source, '.md');
}

describe('runbook evaluation questions', () => {
  it('has at least 40 questions, each naming a runbook that exists', () => {
    assert.ok(runbookQuestions.length >= 40, `only ${runbookQuestions.length} questions`);
    for (const { expected } of runbookQuestions) titleOf(expected);
  });

  it('covers most runbooks, so a retriever cannot score by favouring a few', () => {
    const covered = new Set(runbookQuestions.map((q) => q.expected));
    assert.ok(covered.size >= 25, `only ${covered.size} runbooks have a question`);
  });

  it('shares no word with the title of the runbook it expects', () => {
    const offenders = runbookQuestions.flatMap(({ question, expected }) => {
      const title = words(titleOf(expected));
      const shared = words(question).filter((w) => title.some((t) => sameWord(w, t)));
      return shared.length ? [`${expected}: "${question}" shares ${shared.join(', ')}`] : [];
    });
    assert.deepEqual(offenders, []);
  });

  it('the overlap check itself catches a question that copies its title', () => {
    const title = words('PostgresReplicaLagging');
    assert.deepEqual(title, ['postgres', 'replica', 'lagging']);
    const copied = words('Why is the replica lagging?').filter((w) =>
      title.some((t) => sameWord(w, t)),
    );
    assert.deepEqual(copied, ['replica', 'lagging']);
    assert.ok(sameWord('ingestion', 'ingest'));
    assert.ok(sameWord('pods', 'pod'));
    assert.ok(!sameWord('standby', 'replica'));
  });
});
