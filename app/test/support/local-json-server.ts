import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A real HTTP server on a loopback port that reads each request's JSON body before handing it to
 * `respond`: the base of the stand-ins for the OpenAI-compatible endpoints (embeddings, chat) that
 * cannot run here, and of the OTLP collector.
 */
export abstract class LocalJsonServer {
  private server: Server | undefined;

  /** Base URL in the OpenAI-compatible convention, e.g. http://127.0.0.1:PORT/v1. */
  get url(): string {
    const { port } = this.server!.address() as { port: number };
    return `http://127.0.0.1:${port}/v1`;
  }

  get origin(): string {
    return this.url.replace(/\/v1$/, '');
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.dispatch(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server?.listening) return;
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  protected abstract respond(
    req: IncomingMessage,
    body: unknown,
    res: ServerResponse,
  ): Promise<void> | void;

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      res.writeHead(400).end();
      return;
    }
    await this.respond(req, body, res);
  }
}

/** A LocalJsonServer from one function, for tests that need a single ad-hoc behaviour. */
export function localJsonServer(
  respond: (req: IncomingMessage, body: any, res: ServerResponse) => Promise<void> | void,
): LocalJsonServer {
  return new (class extends LocalJsonServer {
    protected respond(req: IncomingMessage, body: unknown, res: ServerResponse) {
      return respond(req, body, res);
    }
  })();
}

/** Writes an OpenAI embeddings response for `input`, with vectors from the local embedder. */
export async function sendLocalEmbeddings(
  res: ServerResponse,
  embedder: { embed(texts: readonly string[]): Promise<Float32Array[]> },
  input: string[],
): Promise<void> {
  const vectors = await embedder.embed(input);
  res.setHeader('content-type', 'application/json');
  res.end(
    JSON.stringify({ data: vectors.map((v, index) => ({ index, embedding: Array.from(v) })) }),
  );
}
