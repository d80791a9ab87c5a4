import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { LocalEmbedder } from '../../../app/src/rag/embedding/local-embedder';
import { freePort } from './processes';

// The drill's stand-in for the model server: an OpenAI-compatible embedder (`POST /embeddings`)
// and chat endpoint (`POST /chat/completions`), each with `GET /models` (the service's probe), on
// separate base paths so a drill can take one down without the other. Vectors come from the
// service's own feature-hashing model, so retrieval ranks exactly as with the embedded default
// and the other drills see the service they always did. A failing endpoint answers 503 to
// everything, as a model server behind a load balancer with no healthy backend does.

export type ModelEndpoint = 'embedder' | 'chat';

export interface ModelEndpoints {
  /** Base URLs as EMBEDDER_URL and CHAT_URL take them (no trailing /embeddings). */
  readonly urls: Record<ModelEndpoint, string>;
  /** Requests served per endpoint and path, failed ones included. */
  readonly requests: Record<ModelEndpoint, number>;
  fail(endpoint: ModelEndpoint, failing: boolean): void;
  stop(): Promise<void>;
}

export const standInEmbedderModel = 'drill-embedder';
export const standInChatModel = 'drill-chat';

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function startModelEndpoints(dimensions: number): Promise<ModelEndpoints> {
  const embedder = new LocalEmbedder(dimensions);
  const failing: Record<ModelEndpoint, boolean> = { embedder: false, chat: false };
  const requests: Record<ModelEndpoint, number> = { embedder: 0, chat: 0 };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const m = /^\/(embedder|chat)\/v1(\/.*)$/.exec(req.url ?? '');
    if (!m) return send(res, 404, { error: { message: 'not found' } });
    const endpoint = m[1] as ModelEndpoint;
    const route = `${req.method} ${m[2]}`;
    requests[endpoint]++;
    if (failing[endpoint]) {
      return send(res, 503, { error: { message: 'fire drill: no healthy upstream' } });
    }
    const model = endpoint === 'embedder' ? standInEmbedderModel : standInChatModel;
    if (route === 'GET /models') {
      return send(res, 200, { object: 'list', data: [{ id: model, object: 'model' }] });
    }
    if (endpoint === 'embedder' && route === 'POST /embeddings') {
      const body = await readJson(req);
      const input = typeof body.input === 'string' ? [body.input] : body.input;
      if (!Array.isArray(input) || !input.every((t) => typeof t === 'string')) {
        return send(res, 400, { error: { message: 'input must be a string or strings' } });
      }
      const vectors = await embedder.embed(input);
      return send(res, 200, {
        object: 'list',
        model,
        data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: [...v] })),
        usage: { prompt_tokens: 0, total_tokens: 0 },
      });
    }
    if (endpoint === 'chat' && route === 'POST /chat/completions') {
      await readJson(req);
      return send(res, 200, {
        object: 'chat.completion',
        model,
        choices: [
          {
            index: 0,
            finish_reason: 'stop',
            message: { role: 'assistant', content: 'According to the first passage: see [1].' },
          },
        ],
      });
    }
    return send(res, 404, { error: { message: `no route ${route}` } });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => send(res, 400, { error: { message: err.message } }));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${port}`;
  return {
    urls: { embedder: `${base}/embedder/v1`, chat: `${base}/chat/v1` },
    requests,
    fail(endpoint, on) {
      failing[endpoint] = on;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
