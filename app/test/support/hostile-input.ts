import fc from 'fast-check';
import type { RawRequest } from './raw-http';

// Injection-shaped requests for the hostile-input property tests (app/test/http/bad-input.test.ts),
// aimed at one collection and its documents: SQL fragments, path traversal (to be sent byte for
// byte with rawRequest), CR/LF and other raw bytes in header values, prototype-pollution keys in
// bodies and query strings, oversized Authorization values and forged JWTs.

export const sqlFragments = [
  "' OR '1'='1",
  "'; DROP TABLE documents; --",
  '1; DELETE FROM documents',
  '") OR 1=1 --',
  "' UNION SELECT content FROM documents --",
  "x'); TRUNCATE chunks; --",
  "1' AND pg_sleep(5) IS NULL --",
  '$1',
  '?::text',
];

export const traversalFragments = [
  '..',
  '../..',
  '..%2f..%2f',
  '%2e%2e%2f%2e%2e',
  '..%5c..%5c',
  '%252e%252e%252f',
  '....//',
  '/etc/passwd',
  '..%00',
];

export const pollutionKeys = ['__proto__', 'constructor', 'prototype', 'constructor.prototype'];

export type RequestBody = NonNullable<RawRequest['body']>;

export const json = (raw: string): RequestBody => ({ raw, type: 'application/json' });

export const fragment = fc.constantFrom(...sqlFragments, ...traversalFragments, ...pollutionKeys);

/** A fragment as one path segment: percent-encoded unless it is an encoding trick itself. */
export const inSegment = fragment.map((f) => (/%/.test(f) ? f : encodeURIComponent(f)));

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A compact JWS of these parts, whatever they hold (the signature as given). */
export const compactJwt = (header: unknown, claims: unknown, signature = '') =>
  `${b64url(header)}.${b64url(claims)}.${signature}`;

/** Authorization values no service may accept: forged tokens, other schemes, oversized values. */
export const hostileAuthorization = (() => {
  const claims = { sub: 'admin', scope: 'super_admin', exp: 4_102_444_800 };
  return fc.oneof(
    fc.constantFrom(
      `Bearer ${compactJwt({ alg: 'none', typ: 'JWT' }, claims)}`,
      `Bearer ${compactJwt({ alg: 'HS256', typ: 'JWT', kid: "../../../dev/null' OR 1=1" }, claims, 'c2ln')}`,
      `Bearer ${compactJwt({ alg: 'RS256', jku: 'http://127.0.0.1:1/jwks.json' }, claims, 'c2ln')}`,
      'Basic ' + Buffer.from("admin:' OR '1'='1").toString('base64'),
      'Bearer ../../etc/passwd',
      'ApiKey __proto__',
    ),
    fc.integer({ min: 1, max: 64 }).map((kb) => `Bearer ${'A'.repeat(kb * 1024)}`),
    fragment.map((f) => `Bearer ${f}`),
  );
})();

/**
 * Raw header values: CR/LF sequences that add a header or end the block, a lone CR or LF, NUL,
 * and bytes above 0x7f.
 */
export const injectedHeaderValue = fc.constantFrom(
  'abc\r\nSet-Cookie: pwned=1',
  'abc\r\nX-Injected: 1',
  'abc\rX-Injected: 1',
  'abc\nX-Injected: 1',
  'abc\u0000def',
  'caf\u00e9\u00ff',
  'abc\r\n\r\nHTTP/1.1 200 OK',
);

/**
 * Up to three hostile headers. With `credentials: false` none of them is an Authorization or
 * X-API-Key header, so a request keeps the credential its test sends.
 */
export function hostileHeaders(options: { credentials: boolean }) {
  const names = ['X-Request-Id', 'traceparent', 'X-Forwarded-For', 'Origin', 'Cookie'];
  const named = fc
    .tuple(
      fc.constantFrom(...names, ...(options.credentials ? ['Authorization'] : [])),
      fc.oneof(injectedHeaderValue, fragment),
    )
    .map(([n, v]) => [n, v] as const);
  return fc.array(
    options.credentials
      ? fc.oneof(
          hostileAuthorization.map((v) => ['Authorization', v] as const),
          named,
        )
      : named,
    { maxLength: 3 },
  );
}

export interface HostileTarget {
  /** The collection aimed at. */
  readonly collection: string;
  /** Some of its documents. */
  readonly documents: readonly string[];
}

/**
 * Requests at one collection: hostile paths (never the collection's or a document's own path),
 * query strings and bodies; and valid queries on it carrying the fragments where validation lets
 * them through to the stores (the question, metadata filter values).
 */
export function hostileRequests(
  { collection: target, documents: ids }: HostileTarget,
  headers: fc.Arbitrary<readonly (readonly [string, string])[]>,
) {
  const segment = fc.oneof(
    inSegment,
    inSegment.map((f) => `${target}${f}`),
    fragment.map((f) => `${target}/${f}`),
    fc.constantFrom(...ids).chain((id) => inSegment.map((f) => `${id}${f}`)),
    fc.constantFrom(...traversalFragments).map((t) => `${t}/${target}`),
  );
  const documentsPath = `/v1/collections/${target}/documents`;
  const path = fc.oneof(
    segment.map((c) => `/v1/collections/${c}`),
    segment.map((c) => `/v1/collections/${c}/documents`),
    segment.map((d) => `${documentsPath}/${d}`),
    segment.map((d) => `${documentsPath}/${d}/retry`),
    fc.constantFrom(...ids).map((id) => `${documentsPath}/${id}/../../../${target}x`),
    fc.constantFrom(
      '/v1/./collections/..',
      '//v1/collections',
      '/v1/collections/%2e',
      '/v1/%2e%2e/healthz',
    ),
  );
  const queryString = fc.option(
    fc
      .array(
        fc.tuple(
          fc.constantFrom(
            'cursor',
            'status',
            'limit',
            '__proto__[polluted]',
            'constructor[prototype][polluted]',
            '__proto__.polluted',
            'filter[metadata][__proto__]',
            "status' OR 1=1 --",
          ),
          fragment,
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((pairs) =>
        pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
      ),
  );
  const key = fc.oneof(fragment, fc.constantFrom('__proto__', 'constructor', 'prototype'));
  const body = fc.oneof(
    // Keys written into the raw JSON text: an object literal's `__proto__` would set a prototype.
    fc
      .tuple(key, fragment)
      .map(([k, v]) =>
        json(
          `{"content":${JSON.stringify(v)},"metadata":{${JSON.stringify(k)}:${JSON.stringify(v)}}}`,
        ),
      ),
    fc
      .tuple(key, fragment, fc.boolean())
      .map(([k, v, own]) =>
        json(
          `{"collection":${JSON.stringify(own ? target : v)},"query":${JSON.stringify(v)},` +
            `"filter":{"metadata":{${JSON.stringify(k)}:${JSON.stringify(v)}}}}`,
        ),
      ),
    fragment.map((f) =>
      json(`{"id":${JSON.stringify(target + f)},"description":${JSON.stringify(f)}}`),
    ),
    fc.constant(
      json('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
    ),
    fc.constant(json('{"content":"x","metadata":{"constructor":{"prototype":{"polluted":true}}}}')),
    fragment.map((f): RequestBody => ({ raw: f, type: 'application/x-www-form-urlencoded' })),
  );
  const hostileQuery = fc
    .record({ query: fragment, value: fragment, key: fc.constantFrom('team', 'source', 'a.b') })
    .map(({ query, value, key }) =>
      json(JSON.stringify({ collection: target, query, filter: { metadata: { [key]: value } } })),
    );
  const request = fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'DELETE'),
      path,
      queryString,
      headers,
      body: fc.option(body),
    })
    .map((r): RawRequest => ({
      method: r.method,
      path: r.queryString ? `${r.path}?${r.queryString}` : r.path,
      headers: r.headers,
      body: r.body ?? undefined,
    }));
  return fc.oneof(
    request,
    fc
      .record({ headers, body: fc.oneof(body, hostileQuery) })
      .map((r): RawRequest => ({ method: 'POST', path: '/v1/query', ...r })),
  );
}
