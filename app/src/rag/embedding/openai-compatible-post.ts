import { setTimeout as sleep } from 'node:timers/promises';

// One JSON POST to an OpenAI-compatible endpoint (embeddings, chat completions) with the failure
// handling both need: a per-attempt timeout, retries with exponential backoff and full jitter on
// 429, 5xx and network errors, and Retry-After honoured when the server sends it. Shared by
// HttpEmbedder and ChatAnswerer so the two behave identically under a struggling model server.

export interface RetryPolicy {
  /** Attempts after the first. Default 3. */
  readonly maxRetries?: number;
  /** First backoff ceiling in ms; doubles per attempt. Default 200. */
  readonly baseDelayMs?: number;
  /** Largest pause between attempts, including a server's Retry-After. Default 5,000. */
  readonly maxDelayMs?: number;
}

export interface PostOptions extends RetryPolicy {
  readonly url: string;
  readonly body: unknown;
  readonly apiKey?: string;
  /** Bound on each attempt, in ms. */
  readonly timeoutMs: number;
  /** The caller's cancellation (request aborted, shutdown): never retried. */
  readonly signal?: AbortSignal;
}

export class UpstreamError extends Error {
  constructor(
    message: string,
    /** HTTP status when the server answered, undefined for network errors and timeouts. */
    readonly status: number | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamError';
  }
}

export async function postJson(options: PostOptions): Promise<unknown> {
  const maxRetries = options.maxRetries ?? 3;
  const baseDelay = options.baseDelayMs ?? 200;
  const maxDelay = options.maxDelayMs ?? 5_000;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    let retryAfterMs: number | undefined;
    let error: UpstreamError;
    try {
      return await attemptOnce(options);
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      error =
        err instanceof UpstreamError
          ? err
          : new UpstreamError(`request to ${options.url} failed: ${String(err)}`, undefined, true, {
              cause: err,
            });
      retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
    }
    if (!error.retryable || attempt >= maxRetries) throw error;
    const backoff = Math.random() * Math.min(maxDelay, baseDelay * 2 ** attempt);
    await sleep(Math.min(maxDelay, retryAfterMs ?? backoff), undefined, { signal: options.signal });
  }
}

async function attemptOnce(options: PostOptions): Promise<unknown> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      body: JSON.stringify(options.body),
      signal,
    });
  } catch (err) {
    if (timeout.aborted && !options.signal?.aborted) {
      throw new UpstreamError(
        `request to ${options.url} timed out after ${options.timeoutMs} ms`,
        undefined,
        true,
        { cause: err },
      );
    }
    throw err;
  }
  if (!response.ok) {
    // The body helps on-call (the model server's reason), but some servers and proxies quote the
    // credentials they were sent: the key never goes further than this.
    const detail = withoutSecret(await response.text().catch(() => ''), options.apiKey).slice(
      0,
      300,
    );
    const retryable = response.status === 429 || response.status >= 500;
    const error = new UpstreamError(
      `${options.url} answered ${response.status}${detail ? `: ${detail}` : ''}`,
      response.status,
      retryable,
    );
    Object.assign(error, { retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) });
    throw error;
  }
  try {
    return await response.json();
  } catch (err) {
    if (timeout.aborted && !options.signal?.aborted) {
      throw new UpstreamError(`response from ${options.url} timed out`, undefined, true, {
        cause: err,
      });
    }
    throw new UpstreamError(`${options.url} returned invalid JSON`, response.status, false, {
      cause: err,
    });
  }
}

function withoutSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  return text.replaceAll(secret, '[redacted]').replaceAll(encodeURIComponent(secret), '[redacted]');
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
