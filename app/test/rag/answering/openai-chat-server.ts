import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalJsonServer } from '../../support/local-json-server';

// A real HTTP server speaking OpenAI's chat-completions protocol, for testing ChatAnswerer without
// a model. Each test scripts the replies; an unscripted request gets a 500 so nothing passes by
// accident.

export interface ChatRequest {
  readonly headers: IncomingMessage['headers'];
  readonly body: {
    model: string;
    messages: { role: string; content: string }[];
    temperature?: number;
  };
}

export type ChatReply =
  | { kind: 'answer'; content: unknown }
  | { kind: 'status'; status: number }
  | { kind: 'hang'; ms: number };

export class OpenAiChatServer extends LocalJsonServer {
  readonly requests: ChatRequest[] = [];
  readonly script: ChatReply[] = [];
  protected async respond(req: IncomingMessage, raw: unknown, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    this.requests.push({ headers: req.headers, body: raw as ChatRequest['body'] });
    const reply = this.script.shift() ?? { kind: 'status', status: 500 };
    if (reply.kind === 'status') {
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end('{"error":{}}');
      return;
    }
    if (reply.kind === 'hang') {
      await new Promise((r) => setTimeout(r, reply.ms));
      if (!res.destroyed) res.writeHead(500).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'chatcmpl-test',
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: reply.content },
            finish_reason: 'stop',
          },
        ],
      }),
    );
  }
}
