import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalJsonServer } from '../../support/local-json-server';
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

export class OpenAiEmbeddingsServer extends LocalJsonServer {
  readonly requests: RecordedRequest[] = [];
  readonly script: Behaviour[] = [];

  constructor(private readonly dimensions: number) {
    super();
  }
  protected async respond(req: IncomingMessage, raw: unknown, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
      res.writeHead(404).end();
      return;
    }
    const body = raw as RecordedRequest['body'];
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
