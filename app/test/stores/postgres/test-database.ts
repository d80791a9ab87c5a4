import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Client } from 'pg';
import { roleBootstrapStatements } from '../../../../catalog/database-roles';
import { createMetrics, type Metrics } from '../../../src/observability/metrics';
import { eventually } from '../../../../test-support/eventually';

// A private database per suite on the shared test primary (the replica follows CREATE DATABASE),
// so suites never see each other's rows or queue jobs, whatever else runs on the same servers.

export interface TestDatabase {
  readonly name: string;
  /** The superuser's: store-level suites set up and inspect anything with it. */
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /** The service's login (DML only, catalog/database-roles.ts), on the primary and the replica. */
  readonly serviceUrl: string;
  readonly serviceReplicaUrl: string;
  /** The migrations' login (owns the schema). */
  readonly migrationUrl: string;
  /** The login Vault's database secrets engine manages users with. */
  readonly vaultUrl: string;
  drop(): Promise<void>;
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: start the test services (scripts/test-services.sh up)`);
  }
  return value;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const primary = requireEnv('TEST_DATABASE_ADMIN_URL');
  const replica = requireEnv('TEST_DATABASE_REPLICA_ADMIN_URL');
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await adminQuery(primary, `CREATE DATABASE ${name}`);
  // The roles are the cluster's (scripts/test-services.sh); ownership and grants are per database.
  const bootstrap = new Client(withDatabase(primary, name));
  await bootstrap.connect();
  try {
    for (const statement of roleBootstrapStatements(name)) await bootstrap.query(statement);
  } finally {
    await bootstrap.end();
  }
  const replicaUrl = withDatabase(replica, name);
  await waitFor(async () => {
    const c = new Client(replicaUrl);
    try {
      await c.connect();
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => undefined);
    }
  }, 10_000);
  return {
    name,
    primaryUrl: withDatabase(primary, name),
    replicaUrl,
    serviceUrl: withDatabase(requireEnv('DATABASE_URL'), name),
    serviceReplicaUrl: withDatabase(requireEnv('DATABASE_REPLICA_URLS').split(',')[0], name),
    migrationUrl: withDatabase(requireEnv('MIGRATION_DATABASE_URL'), name),
    vaultUrl: withDatabase(requireEnv('TEST_VAULT_DATABASE_URL'), name),
    drop: () => adminQuery(primary, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** The service's settings on `db`: DML login for serving, the owner's login for migrations. */
export function serviceDatabaseEnv(db: TestDatabase): Record<string, string> {
  return {
    DATABASE_URL: db.serviceUrl,
    DATABASE_REPLICA_URLS: db.serviceReplicaUrl,
    MIGRATION_DATABASE_URL: db.migrationUrl,
  };
}

/** Runs one statement on the `postgres` maintenance database of the server behind `url`. */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new Client(withDatabase(url, 'postgres'));
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  await eventually(condition, { timeoutMs, what });
}

export function testMetrics(): Metrics {
  return createMetrics();
}

/** Current value of one series in a registry, or undefined when it was never set. */
export async function metricValue(
  metrics: Metrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const all = await metrics.registry.getMetricsAsJSON();
  const metric = all.find((m) => m.name === name);
  const value = metric?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l),
  );
  return value?.value;
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A TCP forwarder the test can cut, to make a healthy server unreachable mid-run. */
export async function startTcpProxy(
  targetPort: number,
): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
