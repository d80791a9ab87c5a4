import assert from 'node:assert/strict';
import type { ApiKeyStore } from '../../src/domain/access';
import { ApiKeyAuthenticator } from '../../src/security/api-key-authenticator';
import { ApiKeyHasher } from '../../src/security/api-key-format';
import { ApiKeysRepository } from '../../src/stores/postgres/api-keys-repository';
import { PrincipalsRepository } from '../../src/stores/postgres/principals-repository';
import { startDataStack, type DataStack } from '../stores/postgres/data-stack';
import { createTestDatabase, type TestDatabase } from '../stores/postgres/test-database';

// The hot path: once a key is verified, requests cost no HMAC and no database round trip until
// the entry's TTL, and last_used_at is written at most once per interval; the secret is still
// checked on every request, and invalidation drops a principal's keys at once.

describe('API key verification cache', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let stack: DataStack;
  let principals: PrincipalsRepository;
  let keys: ApiKeysRepository;
  const hasher = new ApiKeyHasher(Buffer.from('a test pepper that is long enough to use'));
  let now = 1_000_000;
  const calls = { findByPrefix: 0, touch: 0 };
  let counting: Pick<ApiKeyStore, 'findByPrefix' | 'touch'>;

  before(async () => {
    testDb = await createTestDatabase('api_key_cache');
    stack = await startDataStack(testDb);
    principals = new PrincipalsRepository(stack.database);
    keys = new ApiKeysRepository(stack.database, principals);
    counting = {
      findByPrefix: (prefix) => (calls.findByPrefix++, keys.findByPrefix(prefix)),
      touch: (ids, at) => (calls.touch++, keys.touch(ids, at)),
    };
  });
  after(async () => {
    await stack?.close();
    await testDb?.drop();
  });

  async function newKey() {
    const principal = await principals.create({ name: `p-${Math.random()}` });
    const minted = hasher.mint();
    const info = await keys.create({
      principalId: principal.id,
      name: null,
      prefix: minted.prefix,
      hash: minted.hash,
      scopes: ['read', 'write'],
      expiresAt: null,
    });
    return { principal, key: minted.key, info };
  }

  it('reads the database once per TTL and writes last_used_at once per interval', async () => {
    const auth = new ApiKeyAuthenticator({
      keys: counting,
      hasher,
      cacheTtlMs: 5_000,
      touchIntervalMs: 60_000,
      now: () => now,
    });
    const { key, principal, info } = await newKey();
    calls.findByPrefix = calls.touch = 0;
    for (let i = 0; i < 100; i++) {
      const verdict = await auth.verify(key);
      assert.ok(verdict.ok);
      assert.equal(verdict.principal.id, principal.id);
      assert.equal(verdict.principal.scope, 'writer');
      assert.deepEqual(verdict.principal.credential, { kind: 'api-key', id: info.id });
    }
    assert.equal(calls.findByPrefix, 1);
    assert.equal(calls.touch, 1);
    // A wrong secret under a cached prefix is still refused.
    const wrong = key.slice(0, -4) + (key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    assert.deepEqual(await auth.verify(wrong), { ok: false, reason: 'mismatch', keyId: info.id });
    now += 5_000;
    assert.ok((await auth.verify(key)).ok);
    assert.equal(calls.findByPrefix, 2, 'read again once the TTL passed');
  });

  it('hashes a secret once per entry; a different secret under the same prefix is hashed and refused', async () => {
    let hmacs = 0;
    const countingHasher = Object.assign(Object.create(hasher) as ApiKeyHasher, {
      matches: (presented: string, hash: Buffer) => (hmacs++, hasher.matches(presented, hash)),
    });
    const auth = new ApiKeyAuthenticator({
      keys: counting,
      hasher: countingHasher,
      cacheTtlMs: 5_000,
      now: () => now,
    });
    const { key, info } = await newKey();
    for (let i = 0; i < 50; i++) assert.ok((await auth.verify(key)).ok);
    assert.equal(hmacs, 1, 'the verified secret is compared, not hashed again');
    // Same prefix and length, other bytes: the memo does not match, so the hash decides.
    const wrong = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await auth.verify(wrong), { ok: false, reason: 'mismatch', keyId: info.id });
    }
    assert.equal(hmacs, 4);
    assert.ok((await auth.verify(key)).ok, 'a refused secret does not evict the verified one');
    assert.equal(hmacs, 4);
    // A new entry (TTL passed) starts without a verified secret.
    now += 5_000;
    assert.ok((await auth.verify(key)).ok);
    assert.equal(hmacs, 5);
  });

  it('sees a revocation at the next read after invalidate(), or after the TTL', async () => {
    const auth = new ApiKeyAuthenticator({
      keys: counting,
      hasher,
      cacheTtlMs: 5_000,
      now: () => now,
    });
    const { key, info } = await newKey();
    assert.ok((await auth.verify(key)).ok);
    await keys.revoke(info.id);
    assert.ok((await auth.verify(key)).ok, 'cached within the TTL (another instance revoked it)');
    now += 5_000;
    assert.deepEqual(await auth.verify(key), { ok: false, reason: 'revoked', keyId: info.id });

    const second = await newKey();
    assert.ok((await auth.verify(second.key)).ok);
    await keys.revoke(second.info.id);
    auth.invalidate(second.principal.id);
    assert.equal((await auth.verify(second.key)).ok, false);
  });

  it('refuses malformed keys without a database read', async () => {
    const auth = new ApiKeyAuthenticator({ keys: counting, hasher, cacheTtlMs: 5_000 });
    calls.findByPrefix = 0;
    for (const bad of ['rag_', 'rag_zz_yy', `rag_${'a'.repeat(12)}_short`, 'x'.repeat(300)]) {
      assert.deepEqual(await auth.verify(bad), { ok: false, reason: 'malformed' });
    }
    assert.equal(calls.findByPrefix, 0);
  });
});
