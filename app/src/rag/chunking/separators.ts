// Where a block may be cut, gentlest first: after sentence ends, after line breaks, after any
// whitespace. Each finder is one forward scan over the range — linear in its length whatever the
// input — because documents come from clients: a regular expression such as
// /[.!?…]+["')\]]*\s+/g backtracks over every run of punctuation from each of its positions, and a
// megabyte of periods then holds the event loop for minutes.

/** Cut positions strictly inside (start, end), ascending. */
export type CutFinder = (text: string, start: number, end: number) => number[];

const sentenceEnd = new Set(['.', '!', '?', '…']);
/** Closing quotes and brackets that stay with the sentence they end. */
const sentenceCloser = new Set(['"', "'", '”', '’', ')', ']']);

/** JavaScript's `\s`: the whitespace and line terminators of ECMAScript. */
export function isWhitespace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** After each run of whitespace that follows a sentence end (and its closing quotes/brackets). */
export const afterSentences: CutFinder = (text, start, end) => {
  const cuts: number[] = [];
  let i = start;
  while (i < end) {
    if (!isWhitespace(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i;
    while (j > start && sentenceCloser.has(text[j - 1])) j--;
    const endsSentence = j > start && sentenceEnd.has(text[j - 1]);
    while (i < end && isWhitespace(text.charCodeAt(i))) i++;
    if (endsSentence && i < end) cuts.push(i);
  }
  return cuts;
};

/** After each line feed. */
export const afterLineBreaks: CutFinder = (text, start, end) => {
  const cuts: number[] = [];
  for (let i = text.indexOf('\n', start); i !== -1 && i + 1 < end; i = text.indexOf('\n', i + 1)) {
    cuts.push(i + 1);
  }
  return cuts;
};

/** After each run of whitespace. */
export const afterWhitespace: CutFinder = (text, start, end) => {
  const cuts: number[] = [];
  let i = start;
  while (i < end) {
    if (!isWhitespace(text.charCodeAt(i))) {
      i++;
      continue;
    }
    while (i < end && isWhitespace(text.charCodeAt(i))) i++;
    if (i < end) cuts.push(i);
  }
  return cuts;
};
