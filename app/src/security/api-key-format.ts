import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyMinter } from '../domain/access';

// An API key is `rag_<prefix>_<secret>`: the prefix (12 hex digits, 48 random bits) is public and
// finds the key's row; the secret (32 random bytes, base64url) is what proves possession. Only
// HMAC-SHA-256(pepper, whole key) is stored, so the table alone authenticates nobody and cannot be
// brute-forced offline without the pepper, which lives outside the database (API_KEY_PEPPER).

const keyPattern = /^rag_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** The prefix of a well-formed key, or undefined for anything else (never a database lookup). */
export function apiKeyPrefix(presented: string): string | undefined {
  return keyPattern.exec(presented)?.[1];
}

export function looksLikeApiKey(presented: string): boolean {
  return presented.startsWith('rag_');
}

export class ApiKeyHasher implements ApiKeyMinter {
  constructor(private readonly pepper: Buffer) {
    if (pepper.length === 0) throw new Error('the API key pepper is empty');
  }

  hash(key: string): Buffer {
    return createHmac('sha256', this.pepper).update(key, 'utf8').digest();
  }

  /** Constant time in the key's content (both sides are 32-byte digests). */
  matches(key: string, stored: Buffer): boolean {
    const computed = this.hash(key);
    return stored.length === computed.length && timingSafeEqual(computed, stored);
  }

  mint(): { key: string; prefix: string; hash: Buffer } {
    const prefix = randomBytes(6).toString('hex');
    const key = `rag_${prefix}_${randomBytes(32).toString('base64url')}`;
    return { key, prefix, hash: this.hash(key) };
  }
}

/**
 * Outside production a fixed, publicly known pepper keeps local and test keys valid across
 * restarts with nothing to configure. It protects nothing, so production refuses to start without
 * a real one (see apiKeyPepper).
 */
export const developmentPepper = 'rag-platform development pepper: never use in production';

/** The pepper to hash keys with; production requires API_KEY_PEPPER (32 bytes or more). */
export function apiKeyPepper(config: { NODE_ENV: string; API_KEY_PEPPER?: string }): Buffer {
  if (config.API_KEY_PEPPER) return Buffer.from(config.API_KEY_PEPPER, 'utf8');
  if (config.NODE_ENV === 'production') {
    throw new Error(
      'API_KEY_PEPPER (or API_KEY_PEPPER_FILE) is required with NODE_ENV=production: 32 bytes or more',
    );
  }
  return Buffer.from(developmentPepper, 'utf8');
}
