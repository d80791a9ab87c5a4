import { loadConfig, type Config } from '../../src/config';
import { startService, type RunningService } from '../../src/service';
import { ensureRunKey } from './test-credential';

// Most app tests import the shared poll from here, beside the service they wait on.
export { eventually } from '../../../test-support/eventually';

/**
 * The service in-process against the run's real Postgres primary + replica and Redis (from
 * scripts/test-services.sh), on a free port, with settings tuned for fast tests. Overrides are
 * plain environment-style strings so they go through the same validation as production config.
 */
export async function startTestService(
  overrides: Record<string, string> = {},
  options: Parameters<typeof startService>[1] = {},
): Promise<RunningService> {
  const env: NodeJS.ProcessEnv = {
    // The service's login has DML only (scripts/test-services.sh); migrations run as the owner.
    DATABASE_URL: requireEnv('DATABASE_URL'),
    DATABASE_REPLICA_URLS: requireEnv('DATABASE_REPLICA_URLS'),
    MIGRATION_DATABASE_URL: requireEnv('MIGRATION_DATABASE_URL'),
    REDIS_URL: requireEnv('REDIS_URL'),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SEED_DEMO_CORPUS: 'false',
    DATABASE_REPLICA_CHECK_INTERVAL_MS: '200',
    QUEUE_RETRY_DELAY_SECONDS: '1',
    ...overrides,
  };
  const config: Config = loadConfig(env);
  const service = await startService(config, options);
  // Its schema is migrated now: the run's super admin key goes in (apiClient sends it).
  // DATABASE_URL may carry no login (DATABASE_CREDENTIALS_FILE supplies it): the schema owner's then.
  await ensureRunKey(
    new URL(config.DATABASE_URL ?? '').username
      ? config.DATABASE_URL
      : (config.MIGRATION_DATABASE_URL ?? config.DATABASE_URL),
  ).catch(async (err: unknown) => {
    await service.close();
    throw err;
  });
  return service;
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the tests with \`npm test\` (scripts/test.sh starts the services)`,
    );
  }
  return value;
}

/** Unique per test run and call, so suites sharing one database never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
