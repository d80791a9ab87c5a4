import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { alertGenerators } from '../alerts/src/generators';
import type { GeneratedFile, Generator } from '../catalog/generation';
import { dashboardGenerator } from '../dashboards/src/dashboard-generator';
import { loadtestGenerator } from '../loadtest/src/generator';

// `npm run gen`: regenerates every generated file of the repository from its TypeScript source.
// Each area contributes a Generator to the list below. A generator owns the paths in `owns`: a
// directory (trailing '/') is owned whole, so a file it stops producing is deleted instead of
// lingering; a file path owns just that file (for directories shared with hand-written files).
// `npm run gen -- --check` writes nothing and exits 1 when a committed file is stale.

export const repoRoot = path.resolve(__dirname, '..');

/** The generators, in the order they run. Add yours here. */
export function generators(): Generator[] {
  return [...alertGenerators(), dashboardGenerator(), loadtestGenerator()];
}

/** Files currently on disk under an owned path. */
function listFiles(owned: string): string[] {
  const abs = path.join(repoRoot, owned);
  if (!existsSync(abs)) return [];
  if (!owned.endsWith('/')) return [owned];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(repoRoot, path.join(e.parentPath, e.name)));
}

export interface Drift {
  readonly generator: string;
  readonly path: string;
  readonly problem: 'missing' | 'stale' | 'not generated';
}

/**
 * Generated files outside prettier's ignore list are formatted like hand-written ones, so
 * `prettier --check .` stays clean wherever a generator writes.
 */
async function formatted(file: GeneratedFile): Promise<GeneratedFile> {
  const abs = path.join(repoRoot, file.path);
  const info = await prettier.getFileInfo(abs, {
    ignorePath: path.join(repoRoot, '.prettierignore'),
  });
  if (info.ignored || !info.inferredParser) return file;
  const options = (await prettier.resolveConfig(abs)) ?? {};
  const content = await prettier.format(file.content, { ...options, filepath: abs });
  return { path: file.path, content };
}

export async function generateAll(): Promise<{ generator: Generator; files: GeneratedFile[] }[]> {
  const out = [];
  for (const generator of generators()) {
    const files = await Promise.all((await generator.generate()).map(formatted));
    for (const f of files) {
      if (!generator.owns.some((o) => (o.endsWith('/') ? f.path.startsWith(o) : f.path === o))) {
        throw new Error(`${generator.name} writes ${f.path}, which it does not own`);
      }
    }
    out.push({ generator, files });
  }
  return out;
}

/** Compares the committed tree with a fresh generation. */
export async function findDrift(): Promise<Drift[]> {
  const drift: Drift[] = [];
  for (const { generator, files } of await generateAll()) {
    const produced = new Set(files.map((f) => f.path));
    for (const f of files) {
      const abs = path.join(repoRoot, f.path);
      if (!existsSync(abs))
        drift.push({ generator: generator.name, path: f.path, problem: 'missing' });
      else if (readFileSync(abs, 'utf8') !== f.content) {
        drift.push({ generator: generator.name, path: f.path, problem: 'stale' });
      }
    }
    for (const existing of generator.owns.flatMap(listFiles)) {
      if (!produced.has(existing)) {
        drift.push({ generator: generator.name, path: existing, problem: 'not generated' });
      }
    }
  }
  return drift;
}

export async function writeAll(): Promise<string[]> {
  const written: string[] = [];
  for (const { generator, files } of await generateAll()) {
    const produced = new Set(files.map((f) => f.path));
    for (const existing of generator.owns.flatMap(listFiles)) {
      if (!produced.has(existing)) rmSync(path.join(repoRoot, existing));
    }
    for (const f of files) {
      const abs = path.join(repoRoot, f.path);
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, f.content);
      written.push(f.path);
    }
  }
  return written;
}

async function main(): Promise<void> {
  if (process.argv.includes('--check')) {
    const drift = await findDrift();
    for (const d of drift) console.error(`${d.problem}: ${d.path} (${d.generator})`);
    process.exitCode = drift.length ? 1 : 0;
    return;
  }
  const written = await writeAll();
  console.log(`generated ${written.length} files`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
