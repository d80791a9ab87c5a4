// The service's Postgres roles: one definition the bootstrap (infra's Job, the local test
// services), Vault's database secrets engine and the migrations share, so a role name never
// drifts between the party that creates it and the parties that log in through it.
//
// Three group roles, none of which logs in itself:
// - `migrator` owns the database, its schemas and every object in them; migrations run as it
//   (DDL). Its login users set `role` to it, so what they create is owned by the group, not by a
//   short-lived user Vault will drop.
// - `service` gets DML (SELECT/INSERT/UPDATE/DELETE, sequences) on what the migrator creates,
//   through default privileges, and nothing else: no DDL, no TRUNCATE, no role or catalog access
//   beyond what PUBLIC has. Vault's dynamic users are created IN ROLE service and inherit exactly
//   that.
// - `monitor` is a member of pg_monitor (the postgres_exporter's statistics views).
//
// Creating roles needs CREATEROLE, which only the bootstrap (the RDS master user, a superuser
// locally) holds: the bootstrap runs `roleBootstrapStatements` once per database (idempotent, so
// re-running it is how a drifted database is repaired). Migrations never create roles.

export const databaseRoles = {
  service: 'rag_service',
  migrator: 'rag_migrator',
  monitor: 'rag_monitor',
  /**
   * The login Vault's database secrets engine manages users with (a login, unlike the three
   * groups): CREATEROLE, ADMIN OPTION on the groups (Postgres 16+ requires it to add members),
   * pg_signal_backend to end a revoked user's sessions. Nothing else: it reads no table.
   */
  vaultAdmin: 'vault_admin',
  /** The exporters' login: a member of `monitor`, its password in a file the exporter reads. */
  exporter: 'rag_exporter',
} as const;

export type DatabaseRole = keyof typeof databaseRoles;

/** Group roles a login may be created in. */
export type DatabaseGroup = 'service' | 'migrator' | 'monitor';

/** The schemas the migrations create objects in (pg-boss's queue lives in its own). */
export const serviceSchemas = ['public', 'pgboss'] as const;

/** The privileges the service's role holds on every table the migrator creates. */
export const serviceTablePrivileges = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * SQL the bootstrap runs in `database` as a superuser or a CREATEROLE user (RDS master), each
 * statement on its own. Idempotent: it creates what is missing and hands over what an earlier
 * deploy created as the bootstrap user.
 */
export function roleBootstrapStatements(database: string): string[] {
  const { service, migrator, monitor } = databaseRoles;
  const roles = [migrator, service, monitor];
  return [
    `DO $$ BEGIN
       ${roles
         .map(
           (r) =>
             `IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(r)}) THEN CREATE ROLE ${ident(r)} NOLOGIN; END IF;`,
         )
         .join('\n       ')}
     END $$`,
    `GRANT pg_monitor TO ${ident(monitor)}`,
    // The bootstrap user acts as the migrator below (RDS's master is no superuser: it needs the
    // membership to hand objects over and to set the migrator's default privileges).
    `GRANT ${ident(migrator)} TO CURRENT_USER`,
    `ALTER DATABASE ${ident(database)} OWNER TO ${ident(migrator)}`,
    `REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC`,
    `GRANT CONNECT ON DATABASE ${ident(database)} TO ${roles.map(ident).join(', ')}`,
    // Vault's login (staticLoginStatements), where it exists already: it manages users here.
    `DO $$ BEGIN
       IF EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(databaseRoles.vaultAdmin)}) THEN
         GRANT CONNECT ON DATABASE ${ident(database)} TO ${ident(databaseRoles.vaultAdmin)};
       END IF;
     END $$`,
    `ALTER SCHEMA public OWNER TO ${ident(migrator)}`,
    `REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
    // Objects an earlier deploy created as the bootstrap user (the master) go to the migrator, so
    // later migrations can alter them and the grants below can be made by their owner.
    `DO $$ DECLARE o record; BEGIN
       FOR o IN SELECT n.nspname FROM pg_namespace n
                 WHERE n.nspname = ANY (${literal(`{${serviceSchemas.join(',')}}`)}::text[])
                   AND n.nspowner <> ${literal(migrator)}::regrole LOOP
         EXECUTE format('ALTER SCHEMA %I OWNER TO ${ident(migrator)}', o.nspname);
       END LOOP;
       FOR o IN SELECT c.relname, n.nspname, c.relkind FROM pg_class c
                  JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = ANY (${literal(`{${serviceSchemas.join(',')}}`)}::text[])
                   AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                   AND c.relowner <> ${literal(migrator)}::regrole LOOP
         EXECUTE format('ALTER TABLE %I.%I OWNER TO ${ident(migrator)}', o.nspname, o.relname);
       END LOOP;
       FOR o IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
                  JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = ANY (${literal(`{${serviceSchemas.join(',')}}`)}::text[])
                   AND p.proowner <> ${literal(migrator)}::regrole LOOP
         EXECUTE format('ALTER ROUTINE %s OWNER TO ${ident(migrator)}', o.fn);
       END LOOP;
       FOR o IN SELECT t.typname, n.nspname FROM pg_type t
                  JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname = ANY (${literal(`{${serviceSchemas.join(',')}}`)}::text[])
                   AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0
                   AND t.typowner <> ${literal(migrator)}::regrole LOOP
         EXECUTE format('ALTER TYPE %I.%I OWNER TO ${ident(migrator)}', o.nspname, o.typname);
       END LOOP;
     END $$`,
    // Whatever the migrator creates from now on, in any schema, is the service's to read and write.
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(migrator)} GRANT USAGE ON SCHEMAS TO ${ident(service)}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(migrator)} GRANT ${serviceTablePrivileges.join(', ')} ON TABLES TO ${ident(service)}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(migrator)} GRANT USAGE, SELECT ON SEQUENCES TO ${ident(service)}`,
    // And what exists already.
    `DO $$ DECLARE s text; BEGIN
       FOR s IN SELECT nspname FROM pg_namespace
                 WHERE nspname = ANY (${literal(`{${serviceSchemas.join(',')}}`)}::text[]) LOOP
         EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${ident(service)}', s);
         EXECUTE format('GRANT ${serviceTablePrivileges.join(', ')} ON ALL TABLES IN SCHEMA %I TO ${ident(service)}', s);
         EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO ${ident(service)}', s);
       END LOOP;
     END $$`,
    // Except what the audit log's migration took back (20261201000100_create_audit_events.ts):
    // the service only appends to and reads the audit log, and re-running the bootstrap on every
    // deploy must not hand it the rewrite privileges again.
    `DO $$ BEGIN
       IF to_regclass('public.audit_events') IS NOT NULL THEN
         REVOKE UPDATE, DELETE, TRUNCATE ON public.audit_events FROM ${ident(service)};
       END IF;
     END $$`,
  ];
}

/** Placeholders Vault's database secrets engine fills in its statements. */
export interface LoginUser {
  readonly name: string;
  readonly password: string;
  /** Timestamp (Vault's `{{expiration}}`); omitted: never expires. */
  readonly expiration?: string;
}

/**
 * Vault database secrets engine `creation_statements` for a role's login users, in Vault's
 * template syntax. The migrator's users default to the migrator role (`SET role`), so their
 * objects belong to the group and survive the user's revocation.
 */
export function loginCreationStatements(role: DatabaseGroup): string[] {
  const group = databaseRoles[role];
  return [
    `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE ${ident(group)}`,
    ...(role === 'migrator' ? [`ALTER ROLE "{{name}}" SET role = ${literal(group)}`] : []),
  ];
}

/**
 * Vault `revocation_statements`: the user's sessions end (a lease revoked early must not leave a
 * connection behind) and the user goes. It owns nothing: its group owns what it made.
 */
export function loginRevocationStatements(): string[] {
  return [
    `ALTER ROLE "{{name}}" NOLOGIN`,
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}'`,
    `DROP ROLE IF EXISTS "{{name}}"`,
  ];
}

/**
 * The bootstrap's statements for the two static logins (run after `roleBootstrapStatements`, as
 * the same user): Vault's admin login and the exporters' login, each with the password the
 * platform generated for it. Idempotent; re-running sets the passwords again. Vault rotates its
 * own right after (`database/rotate-root`), so only Vault knows it from then on.
 */
export function staticLoginStatements(passwords: {
  vaultAdmin: string;
  exporter: string;
}): string[] {
  const { service, migrator, monitor, vaultAdmin, exporter } = databaseRoles;
  const upsert = (name: string, password: string, options: string) =>
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(name)}) THEN
         CREATE ROLE ${ident(name)} WITH LOGIN ${options} PASSWORD ${literal(password)};
       ELSE
         ALTER ROLE ${ident(name)} WITH LOGIN ${options} PASSWORD ${literal(password)};
       END IF;
     END $$`;
  return [
    upsert(vaultAdmin, passwords.vaultAdmin, 'CREATEROLE'),
    // Postgres 16+ lets a CREATEROLE user add members to a role only with ADMIN OPTION on it;
    // without INHERIT and SET the membership carries none of the group's privileges. Before 16,
    // CREATEROLE alone may grant any non-superuser role, and a membership would always inherit.
    `DO $$ BEGIN
       IF current_setting('server_version_num')::int >= 160000 THEN
         EXECUTE 'GRANT ${[service, migrator, monitor].map(ident).join(', ')} TO ${ident(vaultAdmin)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE';
       END IF;
     END $$`,
    `GRANT pg_signal_backend TO ${ident(vaultAdmin)}`,
    `DO $$ BEGIN
       EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${ident(vaultAdmin)}', current_database());
     END $$`,
    upsert(exporter, passwords.exporter, 'NOCREATEROLE'),
    `GRANT ${ident(monitor)} TO ${ident(exporter)}`,
  ];
}

/** Fills Vault's placeholders, as the engine does (the local test services and tests use it). */
export function renderLoginStatements(statements: readonly string[], user: LoginUser): string[] {
  const expiration = user.expiration ?? 'infinity';
  return statements.map((s) =>
    s
      .replaceAll('{{name}}', user.name.replaceAll('"', '""'))
      .replaceAll('{{password}}', user.password.replaceAll("'", "''"))
      .replaceAll('{{expiration}}', expiration),
  );
}
