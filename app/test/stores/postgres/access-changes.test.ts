import assert from 'node:assert/strict';
import { Client } from 'pg';
import { ConflictError } from '../../../src/domain/errors';
import { ApiKeyHasher, developmentPepper } from '../../../src/security/api-key-format';
import { AccessChangeListener } from '../../../src/stores/postgres/access-changes';
import { ApiKeysRepository } from '../../../src/stores/postgres/api-keys-repository';
import { CollectionsRepository } from '../../../src/stores/postgres/collections-repository';
import { PrincipalsRepository } from '../../../src/stores/postgres/principals-repository';
import { startTokenDatabase, type TokenDatabase } from '../../security/jwt/jwt-fixtures';
import { eventually } from '../../support/test-service';

// The access change notices on a private database: sent by the transaction that takes access away
// (a key revoked, a principal disabled or enabled, a role set or removed) and heard by the listener
// when it commits; nothing for a change refused or with nothing to change. Notices of one sender
// arrive in commit order, so "not heard" is asserted after a later notice has arrived.

describe('access change notices (Postgres LISTEN/NOTIFY)', function () {
  this.timeout(60_000);
  let db: TokenDatabase;
  let principals: PrincipalsRepository;
  let keys: ApiKeysRepository;
  let listener: AccessChangeListener;
  const heard: (string | null)[] = [];
  const hasher = new ApiKeyHasher(Buffer.from(developmentPepper));

  before(async () => {
    db = await startTokenDatabase('access_changes');
    principals = new PrincipalsRepository(db.database);
    keys = new ApiKeysRepository(db.database, principals);
    listener = new AccessChangeListener({
      connectionString: db.testDb.primaryUrl,
      onChange: (principalId) => heard.push(principalId),
      maxReconnectDelayMs: 200,
    });
    await listener.start();
    await eventually(() => listener.listening, { what: 'LISTEN in place' });
  });
  after(async () => {
    await listener?.close();
    await db?.close();
  });

  const principal = (name: string, superAdmin = false) =>
    principals.create({ name: `${name}-${Math.random().toString(36).slice(2, 8)}`, superAdmin });

  /** Waits for a notice about `id` and returns what was heard before it, from index `from`. */
  async function heardUntil(id: string | null, from: number): Promise<(string | null)[]> {
    const at = await eventually(
      () => {
        const i = heard.indexOf(id, from);
        return i >= 0 ? i + 1 : undefined;
      },
      { what: `a notice about ${id}` },
    );
    return heard.slice(from, at - 1);
  }

  /** A committed change nobody else makes: its notice marks "everything before has arrived". */
  async function marker(): Promise<string> {
    const p = await principal('marker');
    await principals.setDisabled(p.id, true);
    return p.id;
  }

  it('announces a key revocation, a disable, an enable and a role change when they commit', async () => {
    const p = await principal('p');
    const minted = hasher.mint();
    const key = await keys.create({
      principalId: p.id,
      name: null,
      prefix: minted.prefix,
      hash: minted.hash,
      scopes: ['read'],
      expiresAt: null,
    });
    let from = heard.length;
    assert.equal(await keys.revoke(key.id), true);
    await heardUntil(p.id, from);

    from = heard.length;
    const disabled = await principals.setDisabled(p.id, true);
    assert.equal(disabled?.changed, true);
    assert.equal(disabled?.principal.disabled, true);
    await heardUntil(p.id, from);
    assert.equal((await principals.find(p.id)) ?? null, null, 'a disabled principal resolves');

    from = heard.length;
    assert.equal((await principals.setDisabled(p.id, false))?.changed, true);
    await heardUntil(p.id, from);

    const collections = new CollectionsRepository(db.database);
    const c = await collections.create({ id: `c-${p.id}`, embeddingModel: 'm', dimensions: 3 });
    from = heard.length;
    assert.equal(await principals.setRole(p.id, c.key, 'reader'), true);
    await heardUntil(p.id, from);
    from = heard.length;
    assert.equal(await principals.setRole(p.id, c.key, null), true);
    await heardUntil(p.id, from);
  });

  it('announces nothing for a refused change or one with nothing to do', async () => {
    const p = await principal('q');
    await principals.setDisabled(p.id, true);
    const from = heard.length;
    // Already disabled; already revoked (none); an unknown principal.
    assert.equal((await principals.setDisabled(p.id, true))?.changed, false);
    assert.equal(await keys.revoke('00000000-0000-4000-8000-000000000000'), false);
    assert.equal(
      await principals.setDisabled('00000000-0000-4000-8000-000000000000', true),
      undefined,
    );
    const before = await heardUntil(await marker(), from);
    assert.deepEqual(before, []);
  });

  it('keeps one super admin enabled, even when the last two are disabled at once', async () => {
    // Whatever super admins the earlier tests left, disable all but two fresh ones.
    const a = await principal('root-a', true);
    const b = await principal('root-b', true);
    const c = new Client({ connectionString: db.testDb.primaryUrl });
    await c.connect();
    try {
      await c.query('UPDATE principals SET disabled = true WHERE super_admin AND id <> ALL($1)', [
        [a.id, b.id],
      ]);
    } finally {
      await c.end();
    }
    const from = heard.length;
    const outcomes = await Promise.allSettled([
      principals.setDisabled(a.id, true),
      principals.setDisabled(b.id, true),
    ]);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.equal(refused.length, 1, JSON.stringify(outcomes));
    assert.ok((refused[0] as PromiseRejectedResult).reason instanceof ConflictError);
    const stillEnabled = (await principals.get(a.id))!.disabled ? b.id : a.id;
    assert.equal((await principals.get(stillEnabled))!.disabled, false);
    // The refused transaction rolled back: only the other one was announced.
    const before = await heardUntil(await marker(), from);
    assert.deepEqual(before, [stillEnabled === a.id ? b.id : a.id]);
    await assert.rejects(principals.setDisabled(stillEnabled, true), ConflictError);
  });

  it('reports every cached credential suspect once LISTEN is back after a lost connection', async () => {
    const from = heard.length;
    const admin = new Client({ connectionString: db.testDb.primaryUrl });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE '% access-changes'`,
      );
      assert.equal(rowCount, 1);
    } finally {
      await admin.end();
    }
    await heardUntil(null, from);
    await eventually(() => listener.listening, { what: 'LISTEN in place again' });
    const p = await principal('after');
    const next = heard.length;
    await principals.setDisabled(p.id, true);
    await heardUntil(p.id, next);
  });
});
