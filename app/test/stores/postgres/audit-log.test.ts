import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import knex, { type Knex } from 'knex';
import { databaseRoles, roleBootstrapStatements } from '../../../../catalog/database-roles';
import { Closers } from '../../../src/composition/closers';
import { startDataLayer } from '../../../src/composition/data-layer';
import { loadConfig } from '../../../src/config';
import type { AuditEvent } from '../../../src/domain/audit';
import { createLogger } from '../../../src/observability/logger';
import { createMetrics } from '../../../src/observability/metrics';
import { auditHash } from '../../../src/stores/postgres/audit-chain';
import { verifyAuditChain } from '../../../src/stores/postgres/audit-chain-verifier';
import {
  AuditLogRepository,
  fromAuditEventRow,
  type AuditEventRow,
} from '../../../src/stores/postgres/audit-log-repository';
import { migrateLatest } from '../../../src/stores/postgres/migrations';
import { tsNodeEnv } from '../../../../test-support/ts-node-env';
import { repoRoot } from '../../support/service-process';
import { createTestDatabase, type TestDatabase } from './test-database';

const run = promisify(execFile);

// The audit log on a real primary: appends from several instances form one chain, the table
// refuses to be rewritten (even by a superuser, short of disabling its trigger), and the verifier
// finds the exact row a superuser tampered with.

function verifyCli(databaseUrl: string, ...args: string[]) {
  return run(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      'app/src/stores/postgres/audit-verify-cli.ts',
      ...args,
    ],
    { cwd: repoRoot, env: { PATH: process.env.PATH, ...tsNodeEnv(), DATABASE_URL: databaseUrl } },
  );
}

const event = (n: number, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  type: 'document.created',
  actor: `principal-${n % 3}`,
  target: `doc-${n}`,
  collection: 'audited',
  detail: { n, source: `file-${n}.md`, replaced: n % 2 === 0 },
  sourceIp: '203.0.113.7',
  requestId: `req-${n}`,
  ...extra,
});

describe('audit log (hash-chained, append-only audit_events)', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let owner: Knex;
  let instances: Knex[];

  const repository = (pool: Knex) =>
    new AuditLogRepository({ transaction: (fn) => pool.transaction(fn) });

  /** What only a superuser can do: switch the append-only trigger off for one transaction. */
  async function asSuperuserBypassingTrigger(sql: string, bindings: readonly unknown[] = []) {
    await owner.transaction(async (trx) => {
      await trx.raw('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
      await trx.raw(sql, bindings as Knex.RawBinding[]);
      await trx.raw('ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_append_only');
    });
  }

  async function rows(): Promise<ReturnType<typeof fromAuditEventRow>[]> {
    return (await owner<AuditEventRow>('audit_events').select('*').orderBy('id')).map(
      fromAuditEventRow,
    );
  }

  async function appendEvents(count: number): Promise<void> {
    // Interleaved over two "instances" (separate pools), all at once.
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        repository(instances[i % instances.length]).record(event(i)),
      ),
    );
  }

  before(async () => {
    testDb = await createTestDatabase('audit');
    owner = knex({ client: 'pg', connection: testDb.primaryUrl, pool: { min: 0, max: 2 } });
    await migrateLatest(owner);
    instances = [0, 1].map(() =>
      knex({ client: 'pg', connection: testDb.primaryUrl, pool: { min: 0, max: 4 } }),
    );
  });
  beforeEach(() => asSuperuserBypassingTrigger('TRUNCATE audit_events'));
  after(async () => {
    await Promise.all([owner, ...(instances ?? [])].map((k) => k?.destroy()));
    await testDb?.drop();
  });

  it('appends from concurrent instances into one linear chain, durable when record resolves', async () => {
    const a = repository(instances[0]);
    const b = repository(instances[1]);
    const recorded = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).record(event(i)).then(() => i)),
    );
    assert.equal(recorded.length, 60);
    // Read on another connection: every resolved record had committed.
    const all = await rows();
    assert.deepEqual(
      all.map((r) => r.id),
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      all.map((r) => r.requestId).sort(),
      Array.from({ length: 60 }, (_, i) => `req-${i}`).sort(),
    );
    const one = all.find((r) => r.requestId === 'req-4');
    assert.deepEqual(
      { ...one, occurredAt: undefined, hash: undefined, prevHash: undefined, id: undefined },
      {
        id: undefined,
        occurredAt: undefined,
        type: 'document.created',
        actor: 'principal-1',
        target: 'doc-4',
        collection: 'audited',
        detail: { n: 4, source: 'file-4.md', replaced: true },
        sourceIp: '203.0.113.7',
        requestId: 'req-4',
        hash: undefined,
        prevHash: undefined,
      },
    );
    const report = await verifyAuditChain(owner, { pageSize: 7 });
    assert.equal(report.broken, undefined);
    assert.equal(report.verified, 60);
    assert.deepEqual(report.head, { id: 60, hash: all[59].hash });
  });

  it('stores hostile field values so that they verify: NUL, lone surrogates, __proto__, huge text', async () => {
    const log = repository(instances[0]);
    await log.record({
      type: 'authentication.failed',
      actor: null,
      target: 'a\u0000b\ud800c',
      detail: JSON.parse('{"__proto__":"x","reason":"bad\\u0000key","n":1e300,"z":null}'),
      requestId: 'r'.repeat(10_000),
      sourceIp: '\udc00',
    });
    await log.record({
      type: 'access.denied',
      actor: 'p',
      detail: { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, neg: -0 },
    });
    const [first, second] = await rows();
    assert.equal(first.target, 'a\ufffdb\ufffdc');
    assert.equal(first.detail.__proto__, 'x');
    assert.ok((first.requestId ?? '').length < 1_000, 'bounded');
    assert.deepEqual(second.detail, { nan: null, inf: null, neg: 0 });
    assert.equal((await verifyAuditChain(owner)).verified, 2);
  });

  it('batches events recorded while an append is in flight', async () => {
    const log = repository(instances[0]);
    let transactions = 0;
    const counting = new AuditLogRepository({
      transaction: (fn) => {
        transactions += 1;
        return instances[0].transaction(fn);
      },
    });
    await Promise.all(Array.from({ length: 50 }, (_, i) => counting.record(event(i))));
    assert.ok(transactions < 50, `${transactions} transactions for 50 events`);
    // One after another, each awaited: a record made as the previous batch resolves gets its own.
    for (const n of [97, 98, 99]) await log.record(event(n));
    assert.equal((await verifyAuditChain(owner)).verified, 53);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the service connection, superuser or not', async () => {
    await appendEvents(3);
    const service = instances[0];
    for (const sql of [
      "UPDATE audit_events SET detail = '{}' WHERE id = 2",
      'DELETE FROM audit_events WHERE id = 2',
      'TRUNCATE audit_events',
    ]) {
      await assert.rejects(service.raw(sql), /append-only/, sql);
    }
    // Replication mode silences ordinary triggers; this one is enabled ALWAYS.
    await assert.rejects(
      service.transaction(async (trx) => {
        await trx.raw('SET LOCAL session_replication_role = replica');
        await trx.raw('DELETE FROM audit_events');
      }),
      /append-only/,
    );
    assert.equal((await verifyAuditChain(owner)).verified, 3);
  });

  it('refuses a row that does not extend the chain (a writer skipping the lock cannot fork it)', async () => {
    await appendEvents(2);
    const [, second] = await rows();
    const forged = {
      id: 3,
      occurred_at: new Date(),
      type: 'role.changed',
      prev_hash: 'f'.repeat(64),
      hash: 'e'.repeat(64),
    };
    await assert.rejects(instances[0]('audit_events').insert(forged), /does not extend the chain/);
    await assert.rejects(
      instances[0]('audit_events').insert({ ...forged, id: 5, prev_hash: second.hash }),
      /does not extend the chain/,
    );
  });

  it('the verifier names exactly the row a superuser changed', async () => {
    await appendEvents(10);
    assert.match((await verifyCli(testDb.primaryUrl)).stdout, /intact: 10 events, head #10 /);

    await asSuperuserBypassingTrigger(
      `UPDATE audit_events SET detail = detail || '{"n": 12345}' WHERE id = 6`,
    );
    const [sixth] = (await rows()).filter((r) => r.id === 6);
    const report = await verifyAuditChain(owner);
    assert.deepEqual(report.broken, {
      id: 6,
      kind: 'hash',
      expected: auditHash(sixth),
      found: sixth.hash,
    });
    assert.equal(report.verified, 5);

    await assert.rejects(verifyCli(testDb.primaryUrl), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /broken at event #6 \(its content does not match its hash\)/);
      assert.ok(err.stderr.includes(`expected ${auditHash(sixth)}, found ${sixth.hash}`));
      return true;
    });
  });

  it('a change that also recomputes its own hash breaks the next link', async () => {
    await appendEvents(5);
    const third = (await rows())[2];
    const changed = { ...third, actor: 'someone-else' };
    await asSuperuserBypassingTrigger('UPDATE audit_events SET actor = ?, hash = ? WHERE id = 3', [
      changed.actor,
      auditHash(changed),
    ]);
    const report = await verifyAuditChain(owner);
    assert.deepEqual(report.broken, {
      id: 4,
      kind: 'link',
      expected: auditHash(changed),
      found: third.hash,
    });
  });

  it('a middle row deleted by a superuser is caught at the row after it', async () => {
    await appendEvents(8);
    await asSuperuserBypassingTrigger('DELETE FROM audit_events WHERE id = 4');
    const report = await verifyAuditChain(owner);
    assert.deepEqual(report.broken, { id: 5, kind: 'missing', expected: 'id 4', found: 'id 5' });
    assert.equal(report.verified, 3);
    await assert.rejects(verifyCli(testDb.primaryUrl), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /broken at event #5 \(rows before it are missing\)/);
      return true;
    });
  });

  it('an anchor from an earlier run catches a rewrite with every hash recomputed, and a cut tail', async () => {
    await appendEvents(6);
    const anchor = (await verifyAuditChain(owner)).head;
    assert.ok(anchor);
    // A superuser rewrites row 2 and recomputes every hash after it: a consistent chain.
    const rewritten = (await rows()).map((r) => ({ ...r }));
    rewritten[1] = { ...rewritten[1], actor: 'someone-else' };
    for (let i = 1; i < rewritten.length; i++) {
      rewritten[i] = { ...rewritten[i], prevHash: rewritten[i - 1].hash };
      rewritten[i] = { ...rewritten[i], hash: auditHash(rewritten[i]) };
    }
    for (const r of rewritten.slice(1)) {
      await asSuperuserBypassingTrigger(
        'UPDATE audit_events SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?',
        [r.actor, r.prevHash, r.hash, r.id],
      );
    }
    assert.equal((await verifyAuditChain(owner)).broken, undefined, 'the chain alone cannot tell');
    assert.deepEqual((await verifyAuditChain(owner, { anchors: [anchor] })).broken, {
      id: 6,
      kind: 'anchor',
      expected: anchor.hash,
      found: rewritten[5].hash,
    });
    await assert.rejects(
      verifyCli(testDb.primaryUrl, `--anchor=${anchor.id}:${anchor.hash}`),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr, /broken at event #6 \(it is not the row the anchor recorded\)/);
        return true;
      },
    );

    await asSuperuserBypassingTrigger('DELETE FROM audit_events WHERE id >= 5');
    const head = { id: 4, hash: rewritten[3].hash };
    assert.deepEqual((await verifyAuditChain(owner, { anchors: [head, anchor] })).broken, {
      id: 6,
      kind: 'anchor',
      expected: `id 6 ${anchor.hash}`,
      found: 'the log ends at id 4',
    });
  });

  it('exits 2 when it cannot check (no audit table)', async () => {
    const empty = await createTestDatabase('audit_empty');
    try {
      await assert.rejects(verifyCli(empty.primaryUrl), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /not verified: .*audit_events/);
        return true;
      });
    } finally {
      await empty.drop();
    }
  });
});

describe('audit log under the least-privilege roles (catalog/database-roles.ts)', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let admin: Knex;
  let service: Knex;

  const privileges = async () => {
    const { rows } = await admin.raw(
      `SELECT p, has_table_privilege(?, 'audit_events', p) AS audit,
              has_table_privilege(?, 'documents', p) AS documents
         FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p`,
      [databaseRoles.service, databaseRoles.service],
    );
    return rows as { p: string; audit: boolean; documents: boolean }[];
  };

  before(async () => {
    testDb = await createTestDatabase('audit_roles');
    // Migrated as the migrator: the service gets DML on every table through default privileges,
    // and the audit table's migration takes UPDATE/DELETE/TRUNCATE back.
    const migrator = knex({
      client: 'pg',
      connection: testDb.migrationUrl,
      pool: { min: 0, max: 1 },
    });
    try {
      await migrateLatest(migrator);
    } finally {
      await migrator.destroy();
    }
    admin = knex({ client: 'pg', connection: testDb.primaryUrl, pool: { min: 0, max: 1 } });
    service = knex({ client: 'pg', connection: testDb.serviceUrl, pool: { min: 0, max: 2 } });
  });
  after(async () => {
    await service?.destroy();
    await admin?.destroy();
    await testDb?.drop();
  });

  it('the service role appends and reads, and can neither update, delete nor truncate', async () => {
    assert.deepEqual(Object.fromEntries((await privileges()).map((r) => [r.p, r.audit])), {
      SELECT: true,
      INSERT: true,
      UPDATE: false,
      DELETE: false,
    });
    assert.ok(
      (await privileges()).every((r) => r.documents),
      'other tables keep their DML',
    );

    const log = new AuditLogRepository({ transaction: (fn) => service.transaction(fn) });
    await Promise.all([1, 2, 3].map((n) => log.record(event(n))));
    assert.equal((await verifyAuditChain(service)).verified, 3);
    for (const sql of [
      "UPDATE audit_events SET detail = '{}'",
      'DELETE FROM audit_events',
      'TRUNCATE audit_events',
    ]) {
      await assert.rejects(service.raw(sql), /permission denied/, sql);
    }
  });

  it('keeps them revoked when the bootstrap runs again (every deploy runs it)', async () => {
    for (const statement of roleBootstrapStatements(testDb.name)) await admin.raw(statement);
    assert.deepEqual(Object.fromEntries((await privileges()).map((r) => [r.p, r.audit])), {
      SELECT: true,
      INSERT: true,
      UPDATE: false,
      DELETE: false,
    });
  });
});

describe('composition: the AuditLog the use cases get', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;

  before(async () => {
    testDb = await createTestDatabase('audit_composition');
  });
  after(async () => testDb?.drop());

  it("is the data layer's, appending on the primary, and written out before the pools close", async () => {
    const logger = createLogger({ level: 'silent', service: 'test' });
    const closers = new Closers(logger);
    const config = loadConfig({
      DATABASE_URL: testDb.primaryUrl,
      DATABASE_REPLICA_URLS: testDb.replicaUrl,
    });
    const data = await startDataLayer(config, {
      metrics: createMetrics(),
      logger,
      closers,
      onPrimaryFailure: () => undefined,
    });
    let last: Promise<void> | undefined;
    try {
      await data.audit.record(event(1, { type: 'collection.created', target: 'audited' }));
      // Recorded and not awaited when shutdown begins: still written.
      // The queue is stopped by then, as in the service's close().
      await data.stopQueue(5_000);
      last = data.audit.record(event(2, { type: 'collection.deleted', target: 'audited' }));
    } finally {
      await closers.closeAll();
    }
    await last;
    const check = knex({ client: 'pg', connection: testDb.primaryUrl, pool: { min: 0, max: 1 } });
    try {
      const types = await check('audit_events').orderBy('id').pluck('type');
      assert.deepEqual(types, ['collection.created', 'collection.deleted']);
      assert.equal((await verifyAuditChain(check)).verified, 2);
    } finally {
      await check.destroy();
    }
  });
});
