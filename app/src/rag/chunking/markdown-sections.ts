// Splits a document into heading-delimited sections and, inside each, into blocks (paragraphs and
// fenced code blocks), as offset ranges into the original text. Only what chunking needs from
// Markdown: ATX headings (`#`..`######`) and ``` / ~~~ fences, so a `#` inside a code block never
// starts a section. Setext headings (underlined with === / ---) are treated as paragraph text.

import { isWhitespace } from './separators';

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
  code: boolean;
  heading: boolean;
  fenceStart: boolean;
}

const fenceOpenPattern = /^ {0,3}(`{3,}|~{3,})/;

const isSpaceOrTab = (c: string | undefined) => c === ' ' || c === '\t';

/**
 * An ATX heading: up to 3 spaces, 1-6 `#`, then a space or tab or the end of the line; the title is
 * the rest without an optional closing run of `#` preceded by a space. Scanned by hand because the
 * regular expression for it (lazy title, optional closing run, trailing blanks) backtracks
 * quadratically over a long run of spaces, and lines come from clients.
 */
export function atxHeading(line: string): { level: number; title: string } | undefined {
  let i = 0;
  while (i < 3 && line[i] === ' ') i++;
  let level = 0;
  while (line[i + level] === '#') level++;
  if (level < 1 || level > 6) return undefined;
  const from = i + level;
  if (from < line.length && !isSpaceOrTab(line[from])) return undefined;
  // Kept from the regular expression this replaces: its `.` stopped at these line terminators.
  if (/[\r\u2028\u2029]/.test(line.slice(from))) return undefined;
  let to = line.length;
  while (to > from && isSpaceOrTab(line[to - 1])) to--;
  let hashes = to;
  while (hashes > from && line[hashes - 1] === '#') hashes--;
  if (hashes < to && (hashes === from || isSpaceOrTab(line[hashes - 1]))) to = hashes;
  return { level, title: line.slice(from, to).trim() };
}

/** A closing fence: up to 3 spaces, at least as many fence characters, then only blanks. */
function closesFence(line: string, fence: { char: string; length: number }): boolean {
  let i = 0;
  while (i < 3 && line[i] === ' ') i++;
  let run = 0;
  while (line[i + run] === fence.char) run++;
  if (run < fence.length) return false;
  for (let j = i + run; j < line.length; j++) if (!isSpaceOrTab(line[j])) return false;
  return true;
}

function* linesOf(text: string): Generator<Line> {
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl + 1;
    let textEnd = nl === -1 ? end : nl;
    if (textEnd > start && text.charCodeAt(textEnd - 1) === 0x0d) textEnd--;
    yield {
      start,
      end,
      text: text.slice(start, textEnd),
      code: false,
      heading: false,
      fenceStart: false,
    };
    start = end;
  }
}

function isBlank(line: Line): boolean {
  for (let i = 0; i < line.text.length; i++) {
    if (!isWhitespace(line.text.charCodeAt(i))) return false;
  }
  return true;
}

interface OpenSection {
  start: number;
  end: number;
  headingPath: string[];
  level: number;
  lines: Line[];
}

interface RawSection {
  start: number;
  end: number;
  headingPath: string[];
  level: number;
  blocks: Block[];
  /** Nothing but its heading and blank lines. */
  bare: boolean;
}

/** Blocks are computed as each section ends so its lines can be dropped: a large document does
 * not keep an object per line alive until the end. */
function closeSection(s: OpenSection): RawSection {
  return {
    start: s.start,
    end: s.end,
    headingPath: s.headingPath,
    level: s.level,
    blocks: blocksOf(s.lines),
    bare: s.level > 0 && s.lines.every((l) => l.heading || isBlank(l)),
  };
}

/** Sections in document order; together they cover the whole text. */
export function markdownSections(text: string, markdown: boolean): Section[] {
  const raw: RawSection[] = [];
  const stack: { level: number; title: string }[] = [];
  let current: OpenSection = { start: 0, end: 0, headingPath: [], level: 0, lines: [] };
  let fence: { char: string; length: number } | undefined;

  for (const line of linesOf(text)) {
    if (markdown && fence) {
      if (closesFence(line.text, fence)) fence = undefined;
      line.code = true;
      current.lines.push(line);
      current.end = line.end;
      continue;
    }
    const open = markdown ? fenceOpenPattern.exec(line.text) : null;
    // A backtick fence whose info string contains a backtick is inline code, not a fence.
    if (open && !(open[1][0] === '`' && line.text.slice(open[0].length).includes('`'))) {
      fence = { char: open[1][0], length: open[1].length };
      line.code = true;
      line.fenceStart = true;
      current.lines.push(line);
      current.end = line.end;
      continue;
    }
    const heading = markdown ? atxHeading(line.text) : undefined;
    if (heading) {
      const { level, title } = heading;
      line.heading = true;
      while (stack.length > 0 && stack[stack.length - 1].level >= level) stack.pop();
      stack.push({ level, title });
      if (current.lines.length > 0) raw.push(closeSection(current));
      current = {
        start: line.start,
        end: line.end,
        headingPath: stack.map((h) => h.title).filter(Boolean),
        level,
        lines: [line],
      };
      continue;
    }
    current.lines.push(line);
    current.end = line.end;
  }
  if (current.lines.length > 0) raw.push(closeSection(current));

  return mergeBareHeadings(raw).map((s) => ({
    start: s.start,
    end: s.end,
    headingPath: s.headingPath,
    blocks: s.blocks,
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
    const bare = s.bare;
    if (pending && s.level > pending.level) {
      // A heading line always opens a block, so the merged blocks are the two lists joined.
      s.start = pending.start;
      s.blocks = [...pending.blocks, ...s.blocks];
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
function blocksOf(lines: Line[]): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = lines[i].start;
    const code = lines[i].code;
    let j = i + 1;
    if (lines[i].heading) {
      // The heading line is its own block so a long first paragraph can split away from it.
    } else if (code) {
      while (j < lines.length && lines[j].code && !lines[j].fenceStart) j++;
    } else if (!isBlank(lines[i])) {
      while (j < lines.length && !lines[j].code && !isBlank(lines[j])) j++;
    }
    while (j < lines.length && !lines[j].code && !lines[j].heading && isBlank(lines[j])) j++;
    blocks.push({ start, end: lines[j - 1].end, code });
    i = j;
  }
  return blocks;
}
