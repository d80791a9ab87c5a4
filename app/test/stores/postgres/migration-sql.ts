import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knex, { type Knex } from 'knex';

// The SQL knex runs for each migration, captured from a real Postgres run (knex's `query` events,
// one migration at a time) rather than reconstructed: pg-boss's construction script and every
// schema-builder call arrive exactly as the server receives them. knex's own bookkeeping
// (knex_migrations and its lock) is left out.

export interface MigrationSql {
  /** The migration's file name, as knex records it. */
  readonly name: string;
  readonly statements: string[];
}

/** Migration files of `dirs`, ordered by name as knex orders them. */
export function migrationFiles(...dirs: string[]): string[] {
  return dirs
    .flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
        .map((f) => path.join(d, f)),
    )
    .sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
}

class FileMigrations implements Knex.MigrationSource<string> {
  constructor(private readonly files: string[]) {}
  async getMigrations(): Promise<string[]> {
    return this.files;
  }
  getMigrationName(file: string): string {
    return path.basename(file);
  }
  async getMigration(file: string): Promise<Knex.Migration> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as Knex.Migration;
  }
}

const bookkeeping = /\bknex_migrations(_lock)?\b/;

/** Applies `files` in order on an empty database and returns what each one ran. */
export async function captureMigrationSql(url: string, files: string[]): Promise<MigrationSql[]> {
  const db = knex({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
  const config: Knex.MigratorConfig = { migrationSource: new FileMigrations(files) };
  let current: string[] = [];
  db.on('query', (q: { sql: string; bindings?: readonly unknown[] }) => {
    const sql = q.bindings?.length
      ? db.raw(q.sql.replace(/\$(\d+)/g, '?'), q.bindings as Knex.RawBinding[]).toQuery()
      : q.sql;
    if (bookkeeping.test(sql)) return;
    current.push(sql.trim().replace(/;$/, ''));
  });
  const out: MigrationSql[] = [];
  try {
    for (const file of files) {
      current = [];
      const [, applied] = (await db.migrate.up(config)) as [number, string[]];
      if (applied.length !== 1 || applied[0] !== path.basename(file))
        throw new Error(`expected ${path.basename(file)} to run, ran ${applied.join(', ')}`);
      out.push({ name: path.basename(file), statements: current });
    }
  } finally {
    await db.destroy();
  }
  return out;
}

export interface SquawkFinding {
  readonly migration: string;
  readonly rule: string;
  readonly message: string;
  /** The whole statement the finding is about. */
  readonly statement: string;
}

/**
 * squawk over each migration's statements, one `.sql` file per migration with every statement
 * on its own lines, each finding mapped back to the statement it is about.
 */
export function lintMigrations(
  squawk: string,
  migrations: readonly MigrationSql[],
  args: readonly string[],
  run: (cmd: string, args: readonly string[]) => { code: number; stdout: string },
): SquawkFinding[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'squawk-'));
  try {
    const lineOf = new Map<string, { firstLine: number; statement: string }[]>();
    for (const m of migrations) {
      let line = 0;
      const starts: { firstLine: number; statement: string }[] = [];
      const text = m.statements
        .map((s) => {
          starts.push({ firstLine: line, statement: s });
          line += s.split('\n').length;
          return `${s};`;
        })
        .join('\n');
      writeFileSync(path.join(dir, `${m.name}.sql`), `${text}\n`);
      lineOf.set(`${m.name}.sql`, starts);
    }
    const files = migrations.map((m) => path.join(dir, `${m.name}.sql`));
    const r = run(squawk, ['--reporter', 'json', ...args, ...files]);
    const findings = JSON.parse(r.stdout) as {
      file: string;
      line: number;
      rule_name: string;
      message: string;
    }[];
    return findings.map((f) => {
      const file = path.basename(f.file);
      const starts = lineOf.get(file) ?? [];
      const at = [...starts].reverse().find((s) => s.firstLine <= f.line);
      return {
        migration: file.replace(/\.sql$/, ''),
        rule: f.rule_name,
        message: f.message,
        statement: at?.statement ?? '',
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
