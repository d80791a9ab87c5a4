import type { TokenDenylist } from '../../domain/tokens';

// The embedded default's denylist (no REDIS_URL): one process, so its memory is the whole truth.
// Entries are dropped once their token has expired, checked on the way in.

export class MemoryTokenDenylist implements TokenDenylist {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, number>();

  async deny(jti: string, expiresAt: Date): Promise<void> {
    const now = Date.now();
    if (expiresAt.getTime() <= now) return;
    for (const [key, until] of this.entries) if (until <= now) this.entries.delete(key);
    this.entries.set(jti, expiresAt.getTime());
  }

  async isDenied(jti: string): Promise<boolean> {
    const until = this.entries.get(jti);
    return until !== undefined && until > Date.now();
  }

  async close(): Promise<void> {}
}
