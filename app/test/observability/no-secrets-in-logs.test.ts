import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { Client } from 'pg';
import {
  loginCreationStatements,
  loginRevocationStatements,
  renderLoginStatements,
  type LoginUser,
} from '../../../catalog/database-roles';
import { migrateLatest } from '../../src/stores/postgres/migrations';
import { OpenAiChatServer } from '../rag/answering/openai-chat-server';
import { createTestDatabase, type TestDatabase } from '../stores/postgres/test-database';
import { apiClient } from '../support/http-client';
import { localJsonServer, type LocalJsonServer } from '../support/local-json-server';
import { startPrivateRedis, stopPrivateRedis } from '../support/private-redis';
import { freePort, spawnService, waitReady, type ServiceProcess } from '../support/service-process';
import { eventually, uniqueName } from '../support/test-service';
import { LocalEmbedder } from '../../src/rag/embedding/local-embedder';
import { ApiKeyHasher } from '../../src/security/api-key-format';

// Every line the service process writes (stdout and stderr, every level) during a whole run:
// start-up, ingestion, queries through a keyed embedder and chat endpoint, bad input, a model
// endpoint that echoes the key it was sent in its error (some proxies do), a database credential
// rotation with the old user revoked, and shutdown. No secret in play may appear in any of it.

const secret = () => randomBytes(18).toString('base64url');

describe('no secret reaches the logs over a full run', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let admin: Client;
  let dir: string;
  let redis: ChildProcess | undefined;
  let embedder: LocalJsonServer;
  let chat: OpenAiChatServer;
  let service: ServiceProcess | undefined;
  const redisPassword = secret();
  const embedderKey = `sk-${secret()}`;
  const chatKey = `sk-${secret()}`;
  const qdrantKey = secret();
  const apiKeyPepper = `${secret()}${secret()}`;
  // The API key the scenario calls with, hashed under this run's pepper (not the harness's).
  const apiKey = new ApiKeyHasher(Buffer.from(apiKeyPepper, 'utf8')).mint();
  const first: LoginUser = {
    name: `v-rag-api-${randomBytes(4).toString('hex')}`,
    password: secret(),
  };
  const second: LoginUser = {
    name: `v-rag-api-${randomBytes(4).toString('hex')}`,
    password: secret(),
  };

  const writeCredentials = async (login: LoginUser) => {
    const file = path.join(dir, 'database-credentials');
    const next = path.join(dir, '.next');
    await writeFile(next, JSON.stringify({ username: login.name, password: login.password }));
    await rename(next, file);
    return file;
  };
  const hostOnly = (url: string) => {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  };

  before(async () => {
    db = await createTestDatabase('secrets');
    const migrations = knex({
      client: 'pg',
      connection: db.migrationUrl,
      pool: { min: 0, max: 1 },
    });
    try {
      await migrateLatest(migrations);
    } finally {
      await migrations.destroy();
    }
    const owner = new Client({ connectionString: db.migrationUrl });
    await owner.connect();
    try {
      const {
        rows: [principal],
      } = await owner.query<{ id: string }>(
        "INSERT INTO principals (name, super_admin) VALUES ('secrets', true) RETURNING id",
      );
      await owner.query(
        `INSERT INTO api_keys (principal_id, name, prefix, hash, scopes)
         VALUES ($1, 'secrets', $2, $3, '{read,write,admin}')`,
        [principal.id, apiKey.prefix, apiKey.hash],
      );
    } finally {
      await owner.end();
    }
    admin = new Client(db.vaultUrl);
    await admin.connect();
    for (const s of renderLoginStatements(loginCreationStatements('service'), first)) {
      await admin.query(s);
    }
    dir = await mkdtemp(path.join(tmpdir(), 'rag-secrets-'));
    const redisPort = await freePort();
    redis = await startPrivateRedis(redisPort, ['--requirepass', redisPassword]);
    const local = new LocalEmbedder(384);
    // Answers with vectors, except for a query containing "leak": then 401 with the key it was
    // sent in the body, as a careless proxy would.
    embedder = await localJsonServer(async (req, body: { input: string[] }, res) => {
      if (body.input.some((t) => t.includes('leak'))) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `bad key: ${req.headers.authorization}` } }));
        return;
      }
      const vectors = await local.embed(body.input);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          data: vectors.map((v, index) => ({
            object: 'embedding',
            index,
            embedding: Array.from(v),
          })),
        }),
      );
    }).start();
    chat = await new OpenAiChatServer().start();
    const port = await freePort();
    service = spawnService(
      {
        DATABASE_URL: hostOnly(db.serviceUrl),
        DATABASE_REPLICA_URLS: hostOnly(db.serviceReplicaUrl),
        MIGRATION_DATABASE_URL: db.migrationUrl,
        DATABASE_CREDENTIALS_FILE: await writeCredentials(first),
        DATABASE_CREDENTIALS_CHECK_INTERVAL_MS: '300',
        REDIS_URL: `redis://:${redisPassword}@127.0.0.1:${redisPort}`,
        EMBEDDER_URL: embedder.url,
        EMBEDDER_MODEL: 'test-embedder',
        EMBEDDER_API_KEY: embedderKey,
        CHAT_URL: chat.url,
        CHAT_API_KEY: chatKey,
        QDRANT_API_KEY: qdrantKey,
        API_KEY_PEPPER: apiKeyPepper,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'debug',
        SEED_DEMO_CORPUS: 'false',
        SHUTDOWN_DEADLINE_MS: '5000',
      },
      port,
    );
    await waitReady(service, 60_000);
  });
  after(async () => {
    if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
    await embedder?.stop();
    await chat?.stop();
    if (redis) await stopPrivateRedis(redis);
    await admin?.end();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the scenario, then finds none of the secrets in any line', async () => {
    const api = apiClient(service!.url, { apiKey: apiKey.key });
    const collection = uniqueName('secrets');
    assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
    const doc = await api.post(`/v1/collections/${collection}/documents`, {
      content: '# Secrets\n\nKeys and passwords stay out of every log line.',
    });
    assert.equal(doc.status, 202, doc.text);
    await eventually(
      async () =>
        (await api.get(`/v1/collections/${collection}/documents/${doc.body.document.id}`)).body
          ?.status === 'indexed',
      { what: 'document indexed' },
    );
    chat.script.push({ kind: 'answer', content: 'They stay out [1].' });
    const answered = await api.post('/v1/query', { collection, query: 'where do keys stay?' });
    assert.equal(answered.status, 200, answered.text);
    assert.equal(chat.requests.at(-1)?.headers.authorization, `Bearer ${chatKey}`);
    // The chat endpoint failing (unscripted: 500) falls back to an extractive answer.
    assert.equal((await api.post('/v1/query', { collection, query: 'and then?' })).status, 200);
    // The embedder refusing the key, with the key in its error body.
    const refused = await api.post('/v1/query', { collection, query: 'leak the key' });
    assert.equal(refused.status, 503, refused.text);
    assert.equal((await api.post('/v1/query', { collection })).status, 400);

    for (const s of renderLoginStatements(loginCreationStatements('service'), second)) {
      await admin.query(s);
    }
    await writeCredentials(second);
    await eventually(() => /database credentials changed/.test(service!.output()), {
      what: 'rotation logged',
    });
    for (const s of renderLoginStatements(loginRevocationStatements(), first)) await admin.query(s);
    assert.equal(
      (await api.post('/v1/query', { collection, query: 'still answering?' })).status,
      200,
    );

    service!.child.kill('SIGTERM');
    const exit = await service!.exited;
    assert.equal(exit.code, 0, service!.output().slice(-2000));

    const output = service!.output();
    const lines = output.split('\n').filter(Boolean);
    assert.ok(lines.length > 20, `only ${lines.length} lines`);
    assert.match(output, /answered 401/, 'the echoing endpoint was reached and its error logged');
    const secrets = {
      'first database password': first.password,
      'second database password': second.password,
      'migration password': new URL(db.migrationUrl).password,
      'redis password': redisPassword,
      'embedder key': embedderKey,
      'chat key': chatKey,
      'qdrant key': qdrantKey,
      'API key pepper': apiKeyPepper,
      'API key': apiKey.key,
      'API key hash': apiKey.hash.toString('hex'),
    };
    for (const [what, value] of Object.entries(secrets)) {
      assert.ok(value.length >= 16, what);
      const leaks = lines.filter((l) => l.includes(value) || l.includes(encodeURIComponent(value)));
      assert.deepEqual(leaks, [], `${what} appears in the logs`);
    }
  });
});
