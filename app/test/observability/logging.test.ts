import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { RunningService } from '../../src/service';
import { apiClient } from '../support/http-client';
import { eventually, startTestService, uniqueName } from '../support/test-service';

describe('structured logs', function () {
  this.timeout(30_000);
  const lines: Record<string, any>[] = [];
  let service: RunningService;

  before(async () => {
    const stream = new PassThrough();
    let buffered = '';
    stream.on('data', (d) => {
      buffered += d;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) if (part.trim()) lines.push(JSON.parse(part));
    });
    // A replica URL with credentials: they must never reach a log line.
    const replica = new URL(process.env.DATABASE_REPLICA_URLS!.split(',')[0]);
    replica.password = 's3cret-replica-pw';
    service = await startTestService(
      {
        LOG_LEVEL: 'debug',
        DATABASE_REPLICA_URLS: replica.toString(),
        CHAT_API_KEY: 'sk-live-topsecret',
      },
      { logDestination: stream },
    );
  });
  after(() => service?.close());

  it('writes one JSON object per line, with request id and trace id on every request line', async () => {
    const api = apiClient(service.url);
    await api.request('GET', '/v1/collections', undefined, {
      headers: { 'x-request-id': 'req-log-1' },
    });
    await api.post('/v1/query', { collection: uniqueName('missing'), query: 'x' });
    // The log line is written when the response finishes, which may be after the client has it.
    const requests = await eventually(
      () => {
        const logged = lines.filter((l) => l.message === 'request');
        return logged.some((l) => l.requestId === 'req-log-1') &&
          logged.some((l) => l.route === '/v1/query')
          ? logged
          : undefined;
      },
      { what: 'both request lines' },
    );
    for (const line of requests) {
      assert.match(line.requestId, /\S/);
      assert.match(line.traceId, /^[0-9a-f]{32}$/);
      assert.equal(line.service, 'rag-api');
      assert.ok(line.timestamp);
    }
    const mine = requests.find((l) => l.requestId === 'req-log-1');
    assert.equal(mine?.route, '/v1/collections');
    assert.equal(requests.find((l) => l.route === '/v1/query')?.status_code, '404');
  });

  it('redacts secrets: credential fields and passwords inside URLs', () => {
    const all = JSON.stringify(lines);
    assert.doesNotMatch(all, /s3cret-replica-pw/);
    assert.doesNotMatch(all, /sk-live-topsecret/);
    const starting = lines.find((l) => l.message === 'starting');
    assert.equal(starting?.config.CHAT_API_KEY, '[redacted]');
    assert.match(JSON.stringify(starting?.config.DATABASE_REPLICA_URLS), /redacted/);
  });
});
