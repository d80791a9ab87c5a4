import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { loadConfig } from '../../../src/config';
import { migrationConnection, migrationsDirectory } from '../../../src/stores/postgres/migrations';
import {
  captureMigrationSql,
  lintMigrations,
  migrationFiles,
  type MigrationSql,
  type SquawkFinding,
} from './migration-sql';
import { createTestDatabase, type TestDatabase } from './test-database';

// Migrations follow expand/contract: the version still running keeps working while the next one's
// migration Job runs, so no migration may hold a lock a busy table would queue behind, or remove
// what the old version reads. squawk (scripts/tools/squawk.sh) lints the SQL knex really sends,
// captured from a real Postgres run, under the session settings the migration connection has.

const squawk = path.join(
  process.env.RAG_TOOLS_VENV ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'rag-platform/venv'),
  'bin/squawk',
);
const unsafeFixture = path.join(__dirname, 'fixtures/unsafe-migration');

/** Style advice, not locking or breaking: left to review. */
const styleRules = [
  'prefer-bigint-over-int',
  'prefer-bigint-over-smallint',
  'prefer-identity',
  'prefer-timestamp-tz',
  'prefer-text-field',
  // knex's schema builder has no IF NOT EXISTS; a failed migration is rolled back by its transaction.
  'prefer-robust-stmts',
];

/**
 * Findings kept on purpose, one statement each, with the reason. The test fails on a finding
 * not listed here and on an entry no finding matches (the list only shrinks). Empty today:
 * squawk itself accepts the locking statements of the initial migrations (indexes, foreign keys,
 * unique constraints) because each targets a table created earlier in the same migration, so it
 * is empty when they run; the timeouts come from the migration connection.
 */
const allowlist: { migration: string; rule: string; statement: RegExp; reason: string }[] = [];

const defaults = loadConfig({});
const timeouts = {
  statementTimeoutMs: defaults.DATABASE_STATEMENT_TIMEOUT_MS,
  lockTimeoutMs: defaults.DATABASE_LOCK_TIMEOUT_MS,
};
/** What migrationConnection sets as startup parameters, spelled as squawk reads it. */
const sessionSettings = [
  `SET lock_timeout = '${timeouts.lockTimeoutMs}ms'`,
  `SET statement_timeout = '${timeouts.statementTimeoutMs}ms'`,
];

function lint(migrations: readonly MigrationSql[]): SquawkFinding[] {
  return lintMigrations(
    squawk,
    migrations.map((m) => ({ ...m, statements: [...sessionSettings, ...m.statements] })),
    ['--pg-version=15', `--exclude=${styleRules.join(',')}`],
    (cmd, args) => {
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
      if (r.error) throw r.error;
      if (r.status !== 0 && r.status !== 1)
        throw new Error(`squawk exited ${r.status}: ${r.stderr}`);
      return { code: r.status, stdout: r.stdout };
    },
  );
}

const describeFinding = (f: SquawkFinding) =>
  `${f.migration} ${f.rule}: ${f.statement.replace(/\s+/g, ' ').slice(0, 160)}`;

describe('migration lint (squawk over the SQL knex runs)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let captured: MigrationSql[];
  const fixtureNames = migrationFiles(unsafeFixture).map((f) => path.basename(f));

  before(async () => {
    db = await createTestDatabase('squawk');
    // The repository's migrations, then the unsafe fixture on the tables they created.
    captured = await captureMigrationSql(
      db.primaryUrl,
      migrationFiles(migrationsDirectory, unsafeFixture),
    );
  });
  after(async () => db?.drop());

  it('runs migrations with the lock and statement timeouts the lint assumes', async () => {
    const conn = knex({ client: 'pg', connection: migrationConnection(db.primaryUrl, timeouts) });
    try {
      const lock = await conn.raw<{ rows: { lock_timeout: string }[] }>('SHOW lock_timeout');
      const statement = await conn.raw<{ rows: { statement_timeout: string }[] }>(
        'SHOW statement_timeout',
      );
      assert.equal(lock.rows[0].lock_timeout, `${timeouts.lockTimeoutMs / 1000}s`);
      assert.equal(statement.rows[0].statement_timeout, `${timeouts.statementTimeoutMs / 1000}s`);
    } finally {
      await conn.destroy();
    }
  });

  it('captured the DDL of every migration', () => {
    for (const m of captured)
      assert.ok(
        m.statements.some((s) => /^(create|alter|begin)/i.test(s)),
        m.name,
      );
  });

  it('finds nothing in app/migrations outside the per-statement allowlist', () => {
    const findings = lint(captured.filter((m) => !fixtureNames.includes(m.name)));
    const allowed = (f: SquawkFinding) =>
      allowlist.some(
        (a) => a.migration === f.migration && a.rule === f.rule && a.statement.test(f.statement),
      );
    assert.deepEqual(findings.filter((f) => !allowed(f)).map(describeFinding), []);
    const stale = allowlist.filter(
      (a) =>
        !findings.some(
          (f) => a.migration === f.migration && a.rule === f.rule && a.statement.test(f.statement),
        ),
    );
    assert.deepEqual(stale, [], 'allowlist entries that match no finding');
  });

  it('fails an unsafe migration: volatile NOT NULL default, index without CONCURRENTLY, dropped column', () => {
    const findings = lint(captured.filter((m) => fixtureNames.includes(m.name)));
    const rulesOn = (statement: RegExp) =>
      findings.filter((f) => statement.test(f.statement)).map((f) => f.rule);
    assert.ok(
      rulesOn(/add column "?priority/i).length > 0,
      'NOT NULL column with volatile default',
    );
    assert.ok(
      rulesOn(/create index/i).includes('require-concurrent-index-creation'),
      'index without CONCURRENTLY',
    );
    assert.ok(rulesOn(/drop column "?heading_path/i).includes('ban-drop-column'), 'dropped column');
  });
});
