import { chunkId } from './chunk-id';
import { markdownSections, type Block, type Range } from './markdown-sections';

export interface Chunk {
  /** UUID-shaped, deterministic (see chunk-id.ts). */
  readonly id: string;
  readonly ordinal: number;
  /** Exactly `source.slice(start, end)`. */
  readonly text: string;
  /** Titles of the enclosing headings, outermost first. */
  readonly headingPath: string[];
  readonly start: number;
  readonly end: number;
}

export interface ChunkOptions {
  readonly documentId: string;
  readonly mediaType: 'text/markdown' | 'text/plain';
  /** Maximum chunk length in UTF-16 code units. */
  readonly size: number;
  /** Characters repeated from the previous chunk of the same section. */
  readonly overlap: number;
}

export const MIN_CHUNK_SIZE = 16;

/**
 * Splits a document into retrieval chunks: sections by heading first (Markdown), then blocks
 * (paragraphs, fenced code kept whole when it fits), then sentences, lines, words, and as a last
 * resort a hard cut, packing adjacent pieces greedily up to `size`. Overlap never crosses a
 * heading: a new section is a new topic. Overlap above half the size is capped there, since a chunk
 * that is mostly repeated text adds index size without adding recall.
 */
export function chunkDocument(text: string, options: ChunkOptions): Chunk[] {
  const { size } = options;
  if (!Number.isInteger(size) || size < MIN_CHUNK_SIZE) {
    throw new RangeError(`chunk size must be an integer ≥ ${MIN_CHUNK_SIZE}, got ${size}`);
  }
  if (!Number.isInteger(options.overlap) || options.overlap < 0 || options.overlap >= size) {
    throw new RangeError(`chunk overlap must be an integer in [0, size), got ${options.overlap}`);
  }
  const overlap = Math.min(options.overlap, Math.floor(size / 2));
  const budget = size - overlap;

  const chunks: Chunk[] = [];
  for (const section of markdownSections(text, options.mediaType === 'text/markdown')) {
    const atoms = section.blocks.flatMap((b) => atomsOf(text, b, budget));
    let previousEnd: number | undefined;
    for (const piece of pack(atoms, budget)) {
      let start = piece.start;
      if (previousEnd !== undefined && overlap > 0) {
        start = overlapStart(text, Math.max(section.start, previousEnd - overlap), piece.start);
      }
      const trimmed = trim(text, start, piece.end);
      previousEnd = piece.end;
      if (!trimmed) continue;
      const chunkText = text.slice(trimmed.start, trimmed.end);
      const ordinal = chunks.length;
      chunks.push({
        id: chunkId(options.documentId, ordinal, chunkText),
        ordinal,
        text: chunkText,
        headingPath: section.headingPath,
        start: trimmed.start,
        end: trimmed.end,
      });
    }
  }
  return chunks;
}

/** Ends of sentences (keeping closing quotes/brackets), then line breaks, then any whitespace. */
const proseSeparators = [/[.!?…]+["'”’)\]]*\s+/g, /\n/g, /\s+/g];
const codeSeparators = [/\n/g, /\s+/g];

/** Contiguous pieces of a block, each at most `budget` long, cut at the gentlest separator. */
function atomsOf(text: string, block: Block, budget: number): Range[] {
  const out: Range[] = [];
  const split = (start: number, end: number, level: number): void => {
    if (end - start <= budget) {
      out.push({ start, end });
      return;
    }
    const separators = block.code ? codeSeparators : proseSeparators;
    if (level >= separators.length) {
      hardCut(text, start, end, budget, out);
      return;
    }
    const cuts: number[] = [];
    const pattern = new RegExp(separators[level].source, 'g');
    pattern.lastIndex = 0;
    const slice = text.slice(start, end);
    for (let m = pattern.exec(slice); m; m = pattern.exec(slice)) {
      const at = start + m.index + m[0].length;
      if (at < end) cuts.push(at);
      if (m[0].length === 0) pattern.lastIndex++;
    }
    if (cuts.length === 0) {
      split(start, end, level + 1);
      return;
    }
    let from = start;
    for (const at of [...cuts, end]) {
      split(from, at, level + 1);
      from = at;
    }
  };
  split(block.start, block.end, 0);
  // Finer pieces from deeper levels are re-joined by pack(); a block that fits stays one atom.
  return out;
}

function hardCut(text: string, start: number, end: number, budget: number, out: Range[]): void {
  let from = start;
  while (from < end) {
    let to = Math.min(end, from + budget);
    // Never separate a surrogate pair (an emoji would turn into two invalid halves).
    if (to < end && isHighSurrogate(text.charCodeAt(to - 1)) && to - 1 > from) to--;
    out.push({ start: from, end: to });
    from = to;
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Greedy packing of adjacent atoms into ranges of at most `budget`. */
function pack(atoms: Range[], budget: number): Range[] {
  const out: Range[] = [];
  let current: { start: number; end: number } | undefined;
  for (const atom of atoms) {
    if (current && atom.end - current.start <= budget) {
      current.end = atom.end;
    } else {
      if (current) out.push(current);
      current = { start: atom.start, end: atom.end };
    }
  }
  if (current) out.push(current);
  return out;
}

/** Start the overlap after a whitespace so it does not open mid-word; no whitespace, no overlap. */
function overlapStart(text: string, from: number, pieceStart: number): number {
  if (from === 0 || /\s/.test(text[from - 1])) return from;
  for (let i = from; i < pieceStart; i++) {
    if (/\s/.test(text[i])) {
      return i + 1 < pieceStart ? i + 1 : pieceStart;
    }
  }
  return pieceStart;
}

function trim(text: string, start: number, end: number): Range | undefined {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return start < end ? { start, end } : undefined;
}
