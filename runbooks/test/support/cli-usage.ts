import { readFileSync } from 'node:fs';

// The commands and flags of a CLI the runbooks run through npm (`npm run apikey -- create ...`),
// read from the usage text its source prints (by path: runbooks import no app code). A flag
// outside brackets is required; one inside is optional.

export interface CliCommand {
  readonly flags: ReadonlySet<string>;
  readonly required: readonly string[];
}

export type CliUsage = ReadonlyMap<string, CliCommand>;

/** Parses `const usage = \`usage: ...\n  <command> <flags>\n         <more flags>\`` in `file`. */
export function cliUsage(file: string): CliUsage {
  const m = /const usage = `([^`]*)`/.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file}: no usage text`);
  const commands = new Map<string, { flags: Set<string>; required: string[] }>();
  let current: { flags: Set<string>; required: string[] } | undefined;
  for (const line of m[1].split('\n').slice(1)) {
    const head = /^ {2}([a-z][\w-]*)\b(.*)$/.exec(line);
    if (head) {
      current = { flags: new Set(), required: [] };
      commands.set(head[1], current);
    }
    if (!current) continue;
    let depth = 0;
    for (const token of (head ? head[2] : line).match(/\[|\]|--[\w-]+/g) ?? []) {
      if (token === '[') depth++;
      else if (token === ']') depth--;
      else {
        current.flags.add(token);
        if (depth === 0) current.required.push(token);
      }
    }
  }
  return commands;
}

/** What is wrong with `npm run <script> -- <args>` for a CLI of this usage. */
export function cliProblems(script: string, usage: CliUsage, args: readonly string[]): string[] {
  const [command, ...rest] = args;
  const known = command === undefined ? undefined : usage.get(command);
  if (!known)
    return [
      `npm run ${script} has no command ${command ?? '(none)'} (${[...usage.keys()].join(', ')})`,
    ];
  const flags = rest.filter((w) => w.startsWith('--')).map((w) => w.split('=')[0]);
  return [
    ...flags
      .filter((f) => !known.flags.has(f))
      .map(
        (f) =>
          `npm run ${script} -- ${command} has no flag ${f} (${[...known.flags].join(', ') || 'none'})`,
      ),
    ...known.required
      .filter((f) => !flags.includes(f))
      .map((f) => `npm run ${script} -- ${command} needs ${f}`),
  ];
}
