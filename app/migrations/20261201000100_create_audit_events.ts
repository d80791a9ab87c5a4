import type { Knex } from 'knex';

// The audit log (issue 8): security events appended to a hash-chained table that refuses to be
// rewritten. app/src/stores/postgres/audit-log-repository.ts appends (id = previous id + 1,
// hash = SHA-256 over the row and the previous row's hash, app/src/stores/postgres/audit-chain.ts);
// `npm run audit:verify` walks the chain.
//
// Three layers, each covering what the one before cannot:
// - privileges: UPDATE, DELETE and TRUNCATE are revoked from every role but the owner (the service
//   role of the db-roles migrations included, whatever default privileges gave it);
// - a trigger refusing UPDATE, DELETE and TRUNCATE for everyone, the owner and superusers included,
//   enabled ALWAYS so `SET session_replication_role = replica` does not silence it: rewriting
//   history takes an explicit `ALTER TABLE ... DISABLE TRIGGER` by the owner or a superuser;
// - the hash chain, which catches whatever got past both (the verifier names the first bad row).
// An insert trigger also refuses a row that does not extend the chain (wrong id or prev_hash), so
// a writer that skips the repository's lock fails instead of forking the chain.

const genesis = '0'.repeat(64);

export const statements = {
  up: [
    `CREATE TABLE audit_events (
       id bigint PRIMARY KEY CHECK (id > 0),
       occurred_at timestamptz NOT NULL,
       type text NOT NULL,
       actor text,
       target text,
       collection text,
       detail jsonb NOT NULL DEFAULT '{}'::jsonb,
       source_ip text,
       request_id text,
       prev_hash text NOT NULL UNIQUE CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
       hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
     )`,
    // Investigations select by time; rows arrive in time order, so a BRIN index is enough and
    // costs appends next to nothing.
    'CREATE INDEX audit_events_occurred_at_idx ON audit_events USING brin (occurred_at)',
    `CREATE OR REPLACE FUNCTION rag_audit_events_refuse_change() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege',
                 HINT = 'audit events are never changed or removed; see runbooks/procedures/audit-log.md';
       END
       $$`,
    `CREATE OR REPLACE FUNCTION rag_audit_events_check_link() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.id = 1 AND NEW.prev_hash = '${genesis}' THEN
           RETURN NEW;
         END IF;
         IF NOT EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id - 1 AND hash = NEW.prev_hash) THEN
           RAISE EXCEPTION 'audit event % does not extend the chain', NEW.id
             USING ERRCODE = 'check_violation';
         END IF;
         RETURN NEW;
       END
       $$`,
    `CREATE TRIGGER audit_events_append_only
       BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION rag_audit_events_refuse_change()`,
    'ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_append_only',
    `CREATE TRIGGER audit_events_chain_link
       BEFORE INSERT ON audit_events
       FOR EACH ROW EXECUTE FUNCTION rag_audit_events_check_link()`,
    'ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_chain_link',
    'REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC',
    // Whoever holds these privileges now (default privileges of the db-roles migrations give the
    // service role DML on every new table) loses them, by whatever name: nothing to do when no
    // such role exists, as on the embedded default.
    `DO $$
     DECLARE grantee_name text;
     BEGIN
       FOR grantee_name IN
         SELECT DISTINCT a.grantee::regrole::text
           FROM pg_class c, aclexplode(c.relacl) a
          WHERE c.oid = 'audit_events'::regclass
            AND a.grantee <> 0
            AND a.grantee <> c.relowner
            AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
       LOOP
         EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM %s', grantee_name);
       END LOOP;
     END
     $$`,
  ],
  down: [
    'DROP TABLE IF EXISTS audit_events',
    'DROP FUNCTION IF EXISTS rag_audit_events_check_link()',
    'DROP FUNCTION IF EXISTS rag_audit_events_refuse_change()',
  ],
};

export async function up(knex: Knex): Promise<void> {
  for (const sql of statements.up) await knex.raw(sql);
}

export async function down(knex: Knex): Promise<void> {
  for (const sql of statements.down) await knex.raw(sql);
}
