// Splits a document into heading-delimited sections and, inside each, into blocks (paragraphs and
// fenced code blocks), as offset ranges into the original text. Only what chunking needs from
// Markdown: ATX headings (`#`..`######`) and ``` / ~~~ fences, so a `#` inside a code block never
// starts a section. Setext headings (underlined with === / ---) are treated as paragraph text.

export interface Range {
  readonly start: number;
  readonly end: number;
}

export interface Block extends Range {
  /** Fenced code: kept whole whenever it fits a chunk. */
  readonly code: boolean;
}

export interface Section extends Range {
  readonly headingPath: string[];
  readonly blocks: Block[];
}

interface Line {
  readonly start: number;
  /** End of the line including its newline. */
  readonly end: number;
  readonly text: string;
}

const headingPattern = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const fenceOpenPattern = /^ {0,3}(`{3,}|~{3,})/;

function linesOf(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl + 1;
    lines.push({ start, end, text: text.slice(start, nl === -1 ? end : nl).replace(/\r$/, '') });
    start = end;
  }
  return lines;
}

function isBlank(line: Line): boolean {
  return line.text.trim() === '';
}

interface RawSection {
  start: number;
  end: number;
  headingPath: string[];
  level: number;
  lines: { line: Line; code: boolean; heading: boolean; fenceStart?: boolean }[];
}

/** Sections in document order; together they cover the whole text. */
export function markdownSections(text: string, markdown: boolean): Section[] {
  const raw: RawSection[] = [];
  const stack: { level: number; title: string }[] = [];
  let current: RawSection = { start: 0, end: 0, headingPath: [], level: 0, lines: [] };
  let fence: { char: string; length: number } | undefined;

  for (const line of linesOf(text)) {
    if (markdown && fence) {
      const close = new RegExp(
        `^ {0,3}${fence.char === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`,
      );
      if (close.test(line.text)) fence = undefined;
      current.lines.push({ line, code: true, heading: false });
      current.end = line.end;
      continue;
    }
    const open = markdown ? fenceOpenPattern.exec(line.text) : null;
    // A backtick fence whose info string contains a backtick is inline code, not a fence.
    if (open && !(open[1][0] === '`' && line.text.slice(open[0].length).includes('`'))) {
      fence = { char: open[1][0], length: open[1].length };
      current.lines.push({ line, code: true, heading: false, fenceStart: true });
      current.end = line.end;
      continue;
    }
    const heading = markdown ? headingPattern.exec(line.text) : null;
    if (heading) {
      const level = heading[1].length;
      const title = (heading[2] ?? '').trim();
      while (stack.length > 0 && stack[stack.length - 1].level >= level) stack.pop();
      stack.push({ level, title });
      if (current.lines.length > 0) raw.push(current);
      current = {
        start: line.start,
        end: line.end,
        headingPath: stack.map((h) => h.title).filter(Boolean),
        level,
        lines: [{ line, code: false, heading: true }],
      };
      continue;
    }
    current.lines.push({ line, code: false, heading: false });
    current.end = line.end;
  }
  if (current.lines.length > 0) raw.push(current);

  return mergeBareHeadings(raw).map((s) => ({
    start: s.start,
    end: s.end,
    headingPath: s.headingPath,
    blocks: blocksOf(s.lines),
  }));
}

/**
 * A heading directly followed by a deeper heading ("# Runbook" then "## Symptoms") would otherwise
 * be a chunk holding one title; fold it into the subsection, whose heading path names it anyway.
 */
function mergeBareHeadings(sections: RawSection[]): RawSection[] {
  const out: RawSection[] = [];
  let pending: RawSection | undefined;
  for (const s of sections) {
    const bare = s.level > 0 && s.lines.every((l) => l.heading || isBlank(l.line));
    if (pending && s.level > pending.level) {
      s.start = pending.start;
      s.lines = [...pending.lines, ...s.lines];
    } else if (pending) {
      out.push(pending);
    }
    pending = undefined;
    if (bare) pending = s;
    else out.push(s);
  }
  if (pending) out.push(pending);
  return out;
}

/** Paragraphs (runs of non-blank lines) and fences; each block owns the blank lines after it. */
function blocksOf(lines: RawSection['lines']): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = lines[i].line.start;
    const code = lines[i].code;
    let j = i + 1;
    if (lines[i].heading) {
      // The heading line is its own block so a long first paragraph can split away from it.
    } else if (code) {
      while (j < lines.length && lines[j].code && !lines[j].fenceStart) j++;
    } else if (!isBlank(lines[i].line)) {
      while (j < lines.length && !lines[j].code && !isBlank(lines[j].line)) j++;
    }
    while (j < lines.length && !lines[j].code && !lines[j].heading && isBlank(lines[j].line)) j++;
    blocks.push({ start, end: lines[j - 1].line.end, code });
    i = j;
  }
  return blocks;
}
