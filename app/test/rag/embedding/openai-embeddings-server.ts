import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { LocalEmbedder } from '../../../src/rag/embedding/local-embedder';

// A real HTTP server speaking OpenAI's embeddings protocol, for testing HttpEmbedder without a
// model server. Vectors come from LocalEmbedder, scaled so the client must normalize them. Each
// test scripts the next responses (errors, delays, wrong sizes); anything unscripted is a 200.

export interface RecordedRequest {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: { model: string; input: string[] };
}

export type Behaviour =
  | { kind: 'ok'; dimensions?: number; shuffle?: boolean; delayMs?: number }
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  | { kind: 'hang'; ms: number };

export class OpenAiEmbeddingsServer {
  readonly requests: RecordedRequest[] = [];
  readonly script: Behaviour[] = [];
  private server!: Server;

  constructor(private readonly dimensions: number) {}

  get url(): string {
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}/v1`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(raw) as RecordedRequest['body'];
    this.requests.push({ path: req.url, headers: req.headers, body });
    const behaviour = this.script.shift() ?? { kind: 'ok' };
    if (behaviour.kind === 'status') {
      res.writeHead(behaviour.status, { 'content-type': 'application/json', ...behaviour.headers });
      res.end(JSON.stringify({ error: { message: `scripted ${behaviour.status}` } }));
      return;
    }
    if (behaviour.kind === 'hang') {
      await new Promise((r) => setTimeout(r, behaviour.ms));
      if (!res.destroyed) res.writeHead(200).end('{}');
      return;
    }
    if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
    const embedder = new LocalEmbedder(behaviour.dimensions ?? this.dimensions);
    const vectors = await embedder.embed(body.input);
    const data = vectors.map((v, index) => ({
      object: 'embedding',
      index,
      embedding: Array.from(v, (x) => x * 3),
    }));
    if (behaviour.shuffle) data.reverse();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ object: 'list', data, model: body.model, usage: { prompt_tokens: 1 } }),
    );
  }
}
