import type { Logger } from '../observability/logger';

/** Everything started so far, closed in reverse order: on shutdown, or when a later step fails. */
export class Closers {
  private readonly stack: (() => Promise<unknown>)[] = [];

  constructor(private readonly logger: Logger) {}

  push(close: () => Promise<unknown>): void {
    this.stack.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.stack.splice(0).reverse()) {
      await close().catch((err) => this.logger.warn('error while closing', { err }));
    }
  }
}
