import { ConfigError, loadConfig } from './config';
import { startService } from './service';

// `npm start`: configuration from the environment (nothing set = embedded defaults), then the
// service until SIGTERM/SIGINT, which drains it within SHUTDOWN_DEADLINE_MS.
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const service = await startService(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info('shutting down', { signal, deadlineMs: config.SHUTDOWN_DEADLINE_MS });
    service.close().then(
      () => process.exit(0),
      (err) => {
        service.logger.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (reason) => {
    // A rejection nobody handled is a bug; log it loudly but keep serving the other requests.
    service.logger.error('unhandled promise rejection', { err: reason });
  });
}

main().catch((err) => {
  process.stderr.write(
    `failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
