import { runApiKey } from './test-credential';

/** A thin fetch wrapper for black-box API tests: JSON in, status + headers + parsed body out. */
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * Requests carry a credential: `apiKey`, or by default the run's super admin key (valid on every
 * service the harness starts, test-credential.ts; `null` sends none). A request whose own headers
 * carry an Authorization or X-API-Key header sends those instead.
 */
export function apiClient(baseUrl: string, options: { apiKey?: string | null } = {}) {
  const credential = () => (options.apiKey === undefined ? runApiKey : options.apiKey);
  async function request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    init: { headers?: Record<string, string>; rawBody?: string | Buffer } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...init.headers };
    const own = Object.keys(headers).some((h) => /^(authorization|x-api-key)$/i.test(h));
    const key = own ? null : credential();
    if (key) headers.authorization = `Bearer ${key}`;
    let payload: string | Buffer | undefined = init.rawBody;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(new URL(path, baseUrl), { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (/json/.test(res.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }
  return {
    request,
    get: <T = any>(path: string) => request<T>('GET', path),
    post: <T = any>(path: string, body?: unknown) => request<T>('POST', path, body),
    delete: <T = any>(path: string) => request<T>('DELETE', path),
  };
}
