// What on-call would type from a runbook: every line of a shell block and every inline code span
// that starts with a command-line tool, each with the file and line it sits on, so a failed check
// points at the line to fix.

export interface RunbookText {
  readonly file: string;
  readonly text: string;
}

export interface Command {
  readonly file: string;
  readonly line: number;
  /** The whole line or span as written (a pipeline, possibly with `$(...)`). */
  readonly text: string;
}

/** A bullet or paragraph of prose with the line it starts on: where claims about alerts live. */
export interface Passage {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

const tools = new Set([
  'kubectl',
  'pulumi',
  'npm',
  'amtool',
  'bash',
  'psql',
  'redis-cli',
  'curl',
  'aws',
  'vault',
  'runuser',
  'node',
]);

export function commandsIn({ file, text }: RunbookText): Command[] {
  const commands: Command[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const opening = /^\s*```(\w*)\s*$/.exec(raw);
    if (opening) {
      fence = fence === undefined ? opening[1] || 'text' : undefined;
      return;
    }
    if (fence !== undefined) {
      const command = raw.replace(/\s{2,}#.*$/, '').trim();
      if (['sh', 'bash', 'shell'].includes(fence) && command && !command.startsWith('#')) {
        commands.push({ file, line, text: command });
      }
      return;
    }
    for (const span of raw.matchAll(/`([^`]+)`/g)) {
      const first = span[1].trim().split(/\s+/)[0];
      if (tools.has(first)) commands.push({ file, line, text: span[1].trim() });
    }
  });
  return commands;
}

/** Prose outside code blocks, one passage per bullet or paragraph. */
export function passagesIn({ file, text }: RunbookText): Passage[] {
  const passages: Passage[] = [];
  let current: { line: number; lines: string[] } | undefined;
  let inFence = false;
  const flush = () => {
    if (current) passages.push({ file, line: current.line, text: current.lines.join(' ') });
    current = undefined;
  };
  text.split('\n').forEach((raw, i) => {
    if (raw.trimStart().startsWith('```')) {
      flush();
      inFence = !inFence;
      return;
    }
    if (inFence) return;
    if (!raw.trim() || raw.startsWith('#')) return flush();
    if (/^\s*[-*] /.test(raw) || !current) {
      flush();
      current = { line: i + 1, lines: [raw.trim()] };
    } else current.lines.push(raw.trim());
  });
  flush();
  return passages;
}

/** The `$(...)` commands inside a command, each checked like a command of its own. */
export function substitutions(text: string): string[] {
  return [...text.matchAll(/\$\(([^()]*)\)/g)].map((m) => m[1]);
}

/** Splits a pipeline or command list into its simple commands, respecting quotes. */
export function simpleCommands(text: string): string[][] {
  const result: string[][] = [[]];
  let word: string | undefined;
  let quote: string | undefined;
  const end = () => {
    if (word !== undefined) result[result.length - 1].push(word);
    word = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else if (/\s/.test(c)) end();
    else if (c === '|' || c === ';' || c === '&') {
      end();
      if (text[i + 1] === c) i++;
      result.push([]);
    } else word = (word ?? '') + c;
  }
  end();
  return result.filter((words) => words.length > 0);
}

/** Every ```promql block, with the line its query starts on. */
export function queriesIn({ file, text }: RunbookText): Command[] {
  return [...text.matchAll(/```promql\n([\s\S]*?)```/g)].map((m) => ({
    file,
    line: text.slice(0, m.index).split('\n').length + 1,
    text: m[1].trim(),
  }));
}
