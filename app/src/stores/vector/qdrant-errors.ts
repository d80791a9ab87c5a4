import { DependencyUnavailableError } from '../../domain/errors';

// What a failed call to Qdrant means for the service. The client (@qdrant/js-client-rest) throws
// undici's `TypeError: fetch failed` when Qdrant is unreachable, its own timeout and 429 errors, and
// an ApiError carrying Qdrant's HTTP status and body otherwise. None of them may leave the adapter
// as is: an error with a 4xx `status` would be shown to the API's caller as their bad request.

/**
 * Qdrant refused a request the adapter built (a 4xx other than auth and rate limits): a bug on our
 * side, never the API caller's fault and not fixed by retrying, so an internal error. It carries no
 * HTTP status on purpose.
 */
export class VectorStoreRequestRejectedError extends Error {
  constructor(
    readonly qdrantStatus: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VectorStoreRequestRejectedError';
  }
}

interface QdrantApiError {
  status: number;
  data?: { status?: { error?: unknown } } | unknown;
}

function apiErrorOf(err: unknown): QdrantApiError | undefined {
  if (!(err instanceof Error)) return undefined;
  const candidate = err as Error & Partial<QdrantApiError>;
  return typeof candidate.status === 'number' && 'data' in candidate
    ? (candidate as QdrantApiError)
    : undefined;
}

/** Qdrant's own explanation from an error body (`{"status":{"error":"..."}}`), if any. */
function qdrantMessage(api: QdrantApiError): string {
  const error = (api.data as { status?: { error?: unknown } } | undefined)?.status?.error;
  return typeof error === 'string' ? error : '';
}

/** Qdrant answered that the collection does not exist (deleted behind the adapter's back). */
export function isCollectionMissing(err: unknown): boolean {
  const api = apiErrorOf(err);
  return api?.status === 404 && /collection/i.test(qdrantMessage(api));
}

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
]);

function isUnreachable(err: Error): boolean {
  // undici reports every transport failure as TypeError('fetch failed') with the cause attached.
  if (err instanceof TypeError && err.message === 'fetch failed') return true;
  if (err.name === 'QdrantClientTimeoutError' || err.name === 'AbortError') return true;
  if (err.name === 'QdrantClientResourceExhaustedError') return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (unreachableCodes.has(code) || code.startsWith('UND_ERR_'));
}

/**
 * The error the adapter throws for `err`, raised by the Qdrant client during `operation`:
 * unreachable, timed out, rate limited, 5xx or refusing our credentials → DependencyUnavailableError
 * (retryable, 503); any other Qdrant 4xx → VectorStoreRequestRejectedError (internal). Errors that
 * are not the client's (our own input checks, domain errors) pass through unchanged.
 */
export function qdrantFailure(err: unknown, operation: string): unknown {
  const api = apiErrorOf(err);
  if (api) {
    const detail = qdrantMessage(api) || (err as Error).message;
    const status = api.status;
    if (status >= 500 || status === 408 || status === 429 || status === 401 || status === 403) {
      return new DependencyUnavailableError(
        'vector_store',
        `Qdrant answered ${status} to ${operation}: ${detail}`,
        { cause: err },
      );
    }
    return new VectorStoreRequestRejectedError(
      status,
      `Qdrant rejected ${operation} (${status}): ${detail}`,
      { cause: err },
    );
  }
  if (err instanceof Error && isUnreachable(err)) {
    return new DependencyUnavailableError(
      'vector_store',
      `Qdrant unreachable during ${operation}: ${err.message}`,
      { cause: err },
    );
  }
  if (err instanceof Error && err.name === 'QdrantClientUnexpectedResponseError') {
    return new VectorStoreRequestRejectedError(undefined, `Qdrant ${operation}: ${err.message}`, {
      cause: err,
    });
  }
  return err;
}
