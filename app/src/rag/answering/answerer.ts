// The seam between retrieval and the text the user reads. Two implementations: a chat model behind
// an OpenAI-compatible endpoint (chat-answerer.ts) and an extractive answerer that needs no network
// (extractive-answerer.ts). Either way every answer carries citations to the passages it used.

/** A retrieved chunk, as handed to an answerer (best first). */
export interface Passage {
  readonly chunkId: string;
  readonly documentId: string;
  readonly score: number;
  readonly text: string;
  readonly headingPath: string[];
  readonly title?: string | null;
  readonly source?: string;
}

export interface Citation {
  readonly documentId: string;
  readonly chunkId: string;
  readonly score: number;
  /** Short excerpt (≤ ~240 characters) around the part of the passage the answer relied on. */
  readonly snippet: string;
}

export interface Answer {
  readonly text: string;
  readonly citations: Citation[];
}

export interface Answerer {
  readonly kind: 'chat' | 'extractive';
  answer(input: { question: string; passages: Passage[] }, signal?: AbortSignal): Promise<Answer>;
}
