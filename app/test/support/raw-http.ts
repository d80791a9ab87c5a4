import net from 'node:net';

// An HTTP/1.1 request written byte for byte on a socket: the path exactly as given (fetch and
// node:http resolve `..` segments or refuse CR/LF in header values before anything is sent, which
// is what hostile-input tests need to send anyway). One request per connection.

export interface RawRequest {
  readonly method: string;
  /** Sent as is: no normalization, no encoding. */
  readonly path: string;
  /** Written as `name: value` lines in latin1, so CR, LF, NUL and bytes above 0x7f arrive as given. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: { readonly type: string; readonly raw: string };
}

export interface RawResponse {
  /** The first response's status, or undefined when the server closed without answering. */
  readonly status?: number;
  /** Everything the server sent on the connection (several responses if the request was split). */
  readonly text: string;
  /** Header of the first response, by lower-case name (the last value wins). */
  readonly headers: ReadonlyMap<string, string>;
}

export function rawRequest(
  url: string,
  request: RawRequest,
  timeoutMs = 15_000,
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const body = request.body ? Buffer.from(request.body.raw, 'utf8') : undefined;
  // Connection: close first, so a header value that ends the header block early still leaves a
  // connection the server closes after answering.
  const lines = [
    `${request.method} ${request.path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Connection: close',
    ...(request.headers ?? []).map(([name, value]) => `${name}: ${value}`),
    ...(body ? [`Content-Type: ${request.body?.type}`, `Content-Length: ${body.length}`] : []),
  ];
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(port), hostname);
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no end of response within ${timeoutMs} ms`)),
    );
    socket.on('data', (c: Buffer) => chunks.push(c));
    const done = (err?: Error) => {
      const text = Buffer.concat(chunks).toString('latin1');
      // A server that refuses a request while it is still being written (431 on oversized
      // headers) resets the connection: what it answered before that still counts.
      if (err && !text && !/ECONNRESET|EPIPE/.test(String((err as { code?: string }).code))) {
        reject(err);
        return;
      }
      resolve(parse(text));
    };
    socket.on('error', done);
    socket.on('close', () => done());
    socket.write(body ? Buffer.concat([head, body]) : head);
  });
}

function parse(text: string): RawResponse {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const headers = new Map<string, string>();
  const end = text.indexOf('\r\n\r\n');
  for (const line of text
    .slice(0, end < 0 ? text.length : end)
    .split('\r\n')
    .slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: status ? Number(status[1]) : undefined, text, headers };
}
