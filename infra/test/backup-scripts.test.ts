import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStack } from './support/stack-under-mocks';

// The backup Jobs' shell, run for real with Debian's /bin/sh (dash, stricter than the image's
// bash). Qdrant and the AWS CLI cannot run here: Qdrant is a stand-in HTTP server answering its
// documented snapshot API shapes, and `aws` a script on PATH that records its calls and keeps
// what `aws s3 cp -` would upload.

const fakeAws = `#!/bin/sh
echo "$*" >> "$CALLS"
case "$1 $2" in
  "s3 cp") key=$(printf '%s' "$4" | tr '/:' '__'); cat > "$UPLOADS/$key" ;;
  "rds describe-db-snapshots") printf '%s\\n' "$FAKE_SNAPSHOTS" ;;
esac
exit 0
`;

interface Run {
  code: number | null;
  output: string;
  calls: string[];
  uploads: Record<string, string>;
}

async function runScript(script: string, env: Record<string, string>): Promise<Run> {
  const dir = mkdtempSync(path.join(tmpdir(), 'backup-script-'));
  try {
    const bin = path.join(dir, 'bin');
    const uploads = path.join(dir, 'uploads');
    mkdirSync(bin);
    mkdirSync(uploads);
    writeFileSync(path.join(bin, 'aws'), fakeAws);
    chmodSync(path.join(bin, 'aws'), 0o755);
    const calls = path.join(dir, 'calls');
    writeFileSync(calls, '');
    const child = spawn('/bin/sh', ['-c', script], {
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: dir,
        CALLS: calls,
        UPLOADS: uploads,
        ...env,
      },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const [code] = (await once(child, 'exit')) as [number | null];
    return {
      code,
      output,
      calls: readFileSync(calls, 'utf8').split('\n').filter(Boolean),
      uploads: Object.fromEntries(
        readdirSync(uploads).map((f) => [f, readFileSync(path.join(uploads, f), 'utf8')]),
      ),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('infra backup scripts', function () {
  this.timeout(120_000);
  let scripts: Record<string, string>;
  before(async () => {
    const run = await runStack('production');
    scripts = run
      .ofType('kubernetes:core/v1:ConfigMap')
      .find((c) => c.inputs.metadata.name === 'backup-scripts')!.inputs.data;
  });

  it('snapshots every collection on every Qdrant node, streams each to S3, then deletes it', async () => {
    const requests: string[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const host = (req.headers.host ?? '').split(':')[0];
      requests.push(`${req.method} ${host} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      if (req.headers['api-key'] !== 'the-key') {
        res.statusCode = 403;
        res.end('{"status":{"error":"Invalid api-key"}}');
        return;
      }
      const url = req.url ?? '';
      const snapshot = /^\/collections\/([^/]+)\/snapshots(\?wait=true)?$/.exec(url);
      const file = /^\/collections\/([^/]+)\/snapshots\/([^/?]+)$/.exec(url);
      if (req.method === 'GET' && url === '/collections')
        res.end(
          '{"result":{"collections":[{"name":"rag_a_384"},{"name":"rag_b_1536"}]},"status":"ok","time":0.00001}',
        );
      else if (req.method === 'POST' && snapshot)
        res.end(
          `{"result":{"name":"${snapshot[1]}-${host}-2026-11-30-05-00-00.snapshot","creation_time":"2026-11-30T05:00:00","size":42,"checksum":"abc"},"status":"ok","time":0.1}`,
        );
      else if (req.method === 'GET' && file) {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(`tar of ${file[2]}`);
      } else if (req.method === 'DELETE' && file) res.end('{"result":true,"status":"ok"}');
      else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as { port: number };
      // Two "nodes": the same stand-in under two host names.
      const result = await runScript(scripts['qdrant-snapshot.sh'], {
        QDRANT_NODES: '127.0.0.1 localhost',
        QDRANT_PORT: String(port),
        QDRANT_API_KEY: 'the-key',
        BACKUP_BUCKET: 'bucket',
        PREFIX: 'qdrant',
      });
      assert.equal(result.code, 0, result.output);
      const uploads = Object.entries(result.uploads);
      assert.equal(uploads.length, 4, JSON.stringify(result.calls));
      for (const node of ['127', 'localhost'])
        for (const c of ['rag_a_384', 'rag_b_1536']) {
          const host = node === '127' ? '127.0.0.1' : 'localhost';
          const name = `${c}-${host}-2026-11-30-05-00-00.snapshot`;
          const upload = uploads.find(
            ([key]) =>
              key.includes(`_${node}_${c}_${name}`) && key.startsWith('s3___bucket_qdrant_'),
          );
          assert.ok(upload, `${node}/${c} uploaded: ${uploads.map(([k]) => k).join(', ')}`);
          assert.equal(upload[1], `tar of ${name}`);
          assert.ok(requests.includes(`DELETE ${host} /collections/${c}/snapshots/${name}`));
        }
    } finally {
      server.close();
    }
  });

  for (const failing of ['the listing', 'a snapshot download'])
    it(`fails the Job when Qdrant refuses ${failing} (no silent empty backup)`, async () => {
      const server = createServer((req, res) => {
        if (failing === 'a snapshot download' && req.method !== 'GET') {
          res.end('{"result":{"name":"c-1.snapshot"},"status":"ok"}');
          return;
        }
        if (failing === 'a snapshot download' && req.url === '/collections') {
          res.end('{"result":{"collections":[{"name":"c"}]},"status":"ok"}');
          return;
        }
        res.statusCode = failing === 'the listing' ? 403 : 500;
        res.end('{}');
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const { port } = server.address() as { port: number };
        const result = await runScript(scripts['qdrant-snapshot.sh'], {
          QDRANT_NODES: '127.0.0.1',
          QDRANT_PORT: String(port),
          QDRANT_API_KEY: 'wrong',
          BACKUP_BUCKET: 'bucket',
          PREFIX: 'qdrant',
        });
        assert.notEqual(result.code, 0);
      } finally {
        server.close();
      }
    });

  it('snapshots the instance before a migration and keeps only the newest KEEP of its own', async () => {
    const result = await runScript(scripts['pre-migration-snapshot.sh'], {
      DB_INSTANCE: 'rag-production-postgres',
      SNAPSHOT_INFIX: '-pre-migrate-',
      KEEP: '3',
      // What `--query sort_by(...)` prints: oldest first, tab-separated.
      FAKE_SNAPSHOTS:
        'rag-production-postgres-pre-migrate-1\trag-production-postgres-pre-migrate-2\trag-production-postgres-pre-migrate-3\trag-production-postgres-pre-migrate-4\trag-production-postgres-pre-migrate-5',
    });
    assert.equal(result.code, 0, result.output);
    const [wait, create, waitSnapshot, describe, ...deletes] = result.calls;
    assert.match(
      wait,
      /^rds wait db-instance-available --db-instance-identifier rag-production-postgres$/,
    );
    assert.match(
      create,
      /^rds create-db-snapshot --db-instance-identifier rag-production-postgres --db-snapshot-identifier rag-production-postgres-pre-migrate-\d{14}$/,
    );
    assert.match(
      waitSnapshot,
      /^rds wait db-snapshot-available --db-snapshot-identifier rag-production-postgres-pre-migrate-\d{14}$/,
    );
    assert.match(describe, /^rds describe-db-snapshots /);
    assert.deepEqual(deletes, [
      'rds delete-db-snapshot --db-snapshot-identifier rag-production-postgres-pre-migrate-1',
      'rds delete-db-snapshot --db-snapshot-identifier rag-production-postgres-pre-migrate-2',
    ]);
  });
});
