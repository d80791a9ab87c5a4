import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, configSchema, describeConfig, loadConfig } from '../src/config';
import { repoRoot } from './support/service-process';

describe('configuration', () => {
  it('starts on embedded defaults with nothing set', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 8080);
    assert.equal(config.DATABASE_URL, undefined);
    assert.deepEqual(config.DATABASE_REPLICA_URLS, []);
    assert.equal(config.CACHE_TTL_SECONDS, 3600);
    // One process serves and ingests unless told otherwise (the embedded default, local runs).
    assert.equal(config.PROCESS_ROLE, 'all');
  });

  it('retrieves hybrid by default with RRF k = 60; RETRIEVAL_HYBRID=false is vector only', () => {
    assert.equal(loadConfig({}).RETRIEVAL_HYBRID, true);
    assert.equal(loadConfig({}).RETRIEVAL_RRF_K, 60);
    assert.equal(loadConfig({ RETRIEVAL_HYBRID: 'false' }).RETRIEVAL_HYBRID, false);
    assert.equal(loadConfig({ RETRIEVAL_RRF_K: '10' }).RETRIEVAL_RRF_K, 10);
    assert.throws(
      () => loadConfig({ RETRIEVAL_HYBRID: 'yes', RETRIEVAL_RRF_K: '0' }),
      (err: ConfigError) =>
        ['RETRIEVAL_HYBRID', 'RETRIEVAL_RRF_K'].every((key) =>
          err.problems.some((p) => p.startsWith(key)),
        ),
    );
  });

  it('names every wrong setting in one error', () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: '99999',
          DATABASE_URL: 'mysql://x/y',
          DATABASE_REPLICA_URLS: 'postgres://r1/rag, not a url',
          CHUNK_SIZE: '100',
          CHUNK_OVERLAP: '100',
          LOG_LEVEL: 'loud',
          PROCESS_ROLE: 'both',
        }),
      (err: ConfigError) => {
        assert.ok(err instanceof ConfigError);
        for (const key of [
          'PORT',
          'DATABASE_URL',
          'DATABASE_REPLICA_URLS.1',
          'LOG_LEVEL',
          'PROCESS_ROLE',
        ]) {
          assert.ok(
            err.problems.some((p) => p.startsWith(`${key}:`)),
            `${key} in ${err.problems}`,
          );
        }
        return true;
      },
    );
    assert.throws(() => loadConfig({ CHUNK_SIZE: '100', CHUNK_OVERLAP: '100' }), /CHUNK_OVERLAP/);
    assert.throws(
      () => loadConfig({ EMBEDDER_URL: 'http://tei:8080/v1' }),
      /EMBEDDER_MODEL: is required when EMBEDDER_URL is set/,
    );
    assert.throws(
      () => loadConfig({ JWT_SIGNING_KEYS_DIR: '/keys', JWT_SIGNING_KEYS_FILE: '/keys.json' }),
      /JWT_SIGNING_KEYS_FILE: excludes JWT_SIGNING_KEYS_DIR/,
    );
  });

  it('reads NAME_FILE as the value of NAME, and says which file it could not read', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rag-config-'));
    const file = path.join(dir, 'database-url');
    await writeFile(file, 'postgres://app:pw@db:5432/rag\n');
    assert.equal(
      loadConfig({ DATABASE_URL_FILE: file }).DATABASE_URL,
      'postgres://app:pw@db:5432/rag',
    );
    assert.throws(
      () => loadConfig({ REDIS_URL_FILE: path.join(dir, 'missing') }),
      /REDIS_URL_FILE: cannot read/,
    );
  });

  it('describes itself without secrets', () => {
    const described = describeConfig(
      loadConfig({ DATABASE_URL: 'postgres://app:hunter2@db/rag', CHAT_API_KEY: 'sk-123' }),
    );
    assert.doesNotMatch(JSON.stringify(described), /hunter2|sk-123/);
  });

  it('documents every setting in the README', async () => {
    const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Configuration'),
      readme.indexOf('\n## ', readme.indexOf('## Configuration') + 3),
    );
    for (const key of Object.keys(configSchema.shape)) {
      assert.ok(section.includes(`\`${key}\``), `README ## Configuration does not document ${key}`);
    }
  });
});
