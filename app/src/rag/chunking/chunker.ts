import { chunkId } from './chunk-id';
import { markdownSections, type Block, type Range } from './markdown-sections';
import {
  afterLineBreaks,
  afterSentences,
  afterWhitespace,
  isWhitespace,
  type CutFinder,
} from './separators';

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
    const packer = new Packer(budget);
    for (const block of section.blocks) addAtoms(text, block, budget, packer);
    let previousEnd: number | undefined;
    for (const piece of packer.finish()) {
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

const proseSeparators: CutFinder[] = [afterSentences, afterLineBreaks, afterWhitespace];
const codeSeparators: CutFinder[] = [afterLineBreaks, afterWhitespace];

/**
 * Feeds the packer the contiguous pieces of a block, each at most `budget` long, cut at the
 * gentlest separator. Pieces go straight to the packer rather than into a list: a block of a
 * million line breaks is a million pieces, and the packer re-joins them anyway.
 */
function addAtoms(text: string, block: Block, budget: number, packer: Packer): void {
  const separators = block.code ? codeSeparators : proseSeparators;
  const split = (start: number, end: number, level: number): void => {
    if (end - start <= budget) {
      packer.add(start, end);
      return;
    }
    if (level >= separators.length) {
      hardCut(text, start, end, budget, packer);
      return;
    }
    const cuts = separators[level](text, start, end);
    let from = start;
    for (const at of cuts) {
      split(from, at, level + 1);
      from = at;
    }
    split(from, end, level + 1);
  };
  split(block.start, block.end, 0);
}

function hardCut(text: string, start: number, end: number, budget: number, out: Packer): void {
  let from = start;
  while (from < end) {
    let to = Math.min(end, from + budget);
    // Never separate a surrogate pair (an emoji would turn into two invalid halves).
    if (to < end && isHighSurrogate(text.charCodeAt(to - 1)) && to - 1 > from) to--;
    out.add(from, to);
    from = to;
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Greedy packing of adjacent atoms, in order, into ranges of at most `budget`. */
class Packer {
  private readonly out: Range[] = [];
  private start = -1;
  private end = -1;

  constructor(private readonly budget: number) {}

  add(start: number, end: number): void {
    if (this.start >= 0 && end - this.start <= this.budget) {
      this.end = end;
      return;
    }
    if (this.start >= 0) this.out.push({ start: this.start, end: this.end });
    this.start = start;
    this.end = end;
  }

  finish(): Range[] {
    if (this.start >= 0) this.out.push({ start: this.start, end: this.end });
    this.start = -1;
    return this.out;
  }
}

/** Start the overlap after a whitespace so it does not open mid-word; no whitespace, no overlap. */
function overlapStart(text: string, from: number, pieceStart: number): number {
  if (from === 0 || isWhitespace(text.charCodeAt(from - 1))) return from;
  for (let i = from; i < pieceStart; i++) {
    if (isWhitespace(text.charCodeAt(i))) {
      return i + 1 < pieceStart ? i + 1 : pieceStart;
    }
  }
  return pieceStart;
}

function trim(text: string, start: number, end: number): Range | undefined {
  while (start < end && isWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isWhitespace(text.charCodeAt(end - 1))) end--;
  return start < end ? { start, end } : undefined;
}
