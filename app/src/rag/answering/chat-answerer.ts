import { postJson, UpstreamError, type RetryPolicy } from '../embedding/openai-compatible-post';
import type { Answer, Answerer, Citation, Passage } from './answerer';
import { NO_RELEVANT_PASSAGE } from './extractive-answerer';
import { bestSnippet, questionTerms } from './passage-sentences';

// Answers with a chat model behind any OpenAI-compatible `POST /chat/completions` (OpenAI, Ollama,
// vLLM). The prompt numbers the passages and tells the model to answer only from them and cite
// them as [n]; the numbers it cites become the citations. A model that cites nothing still used
// the passages it was given, so then all of them are cited. Timeouts and retries as the embedder.

export interface ChatAnswererOptions extends RetryPolicy {
  /** Base URL, e.g. https://api.openai.com/v1 (no trailing /chat/completions). */
  readonly url: string;
  readonly model: string;
  readonly apiKey?: string;
  readonly timeoutMs?: number;
  /** Passages put in the prompt, best first. Default 6. */
  readonly maxPassages?: number;
  /** Characters of each passage put in the prompt. Default 2,000. */
  readonly maxPassageChars?: number;
  readonly maxTokens?: number;
}

export const SYSTEM_PROMPT = [
  'You are an assistant for on-call engineers. Answer the question using only the numbered passages.',
  'After each statement, cite the passages that support it as [n], e.g. [1] or [2][3].',
  'Be concise: a few sentences or a short list of steps.',
  'If the passages do not contain the answer, say that you do not know; never invent facts.',
].join(' ');

interface ChatCompletionResponse {
  choices?: { message?: { content?: unknown } }[];
}

export class ChatAnswerer implements Answerer {
  readonly kind = 'chat' as const;
  private readonly endpoint: string;

  constructor(private readonly options: ChatAnswererOptions) {
    this.endpoint = `${options.url.replace(/\/+$/, '')}/chat/completions`;
  }

  async answer(
    input: { question: string; passages: Passage[] },
    signal?: AbortSignal,
  ): Promise<Answer> {
    const passages = input.passages.slice(0, this.options.maxPassages ?? 6);
    // Nothing retrieved: nothing to ground an answer in, and no reason to pay for a model call.
    if (passages.length === 0) return { text: NO_RELEVANT_PASSAGE, citations: [] };

    const response = (await postJson({
      url: this.endpoint,
      body: {
        model: this.options.model,
        temperature: 0,
        ...(this.options.maxTokens ? { max_tokens: this.options.maxTokens } : {}),
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: this.userPrompt(input.question, passages) },
        ],
      },
      apiKey: this.options.apiKey,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      signal,
      maxRetries: this.options.maxRetries,
      baseDelayMs: this.options.baseDelayMs,
      maxDelayMs: this.options.maxDelayMs,
    })) as ChatCompletionResponse;

    const content = response?.choices?.[0]?.message?.content;
    if (typeof content !== 'string' || content.trim() === '') {
      throw new UpstreamError(`${this.endpoint} returned no answer text`, undefined, false);
    }
    const cited = citedNumbers(content, passages.length);
    const used = cited.length > 0 ? cited : passages.map((_, i) => i + 1);
    const terms = questionTerms(input.question);
    const citations: Citation[] = used.map((n) => {
      const p = passages[n - 1];
      return {
        documentId: p.documentId,
        chunkId: p.chunkId,
        score: p.score,
        snippet: bestSnippet(p, terms),
      };
    });
    return { text: content.trim(), citations };
  }

  private userPrompt(question: string, passages: Passage[]): string {
    const limit = this.options.maxPassageChars ?? 2_000;
    const blocks = passages.map((p, i) => {
      const where = [p.title, ...p.headingPath].filter(Boolean).join(' › ');
      const text = p.text.length > limit ? `${p.text.slice(0, limit)}…` : p.text;
      return `[${i + 1}]${where ? ` (${where})` : ''}\n${text}`;
    });
    return `Passages:\n\n${blocks.join('\n\n')}\n\nQuestion: ${question}`;
  }
}

/** Passage numbers cited as [n] or [n, m], in order of first citation, ignoring out-of-range ones. */
export function citedNumbers(text: string, passageCount: number): number[] {
  const seen = new Set<number>();
  for (const group of text.matchAll(/\[(\d+(?:\s*[,;]\s*\d+)*)\]/g)) {
    for (const part of group[1].split(/[,;]/)) {
      const n = Number(part.trim());
      if (Number.isInteger(n) && n >= 1 && n <= passageCount) seen.add(n);
    }
  }
  return [...seen];
}
