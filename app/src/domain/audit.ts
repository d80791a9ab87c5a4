// Security-relevant events, as the use cases and the authentication layer report them. The store
// (app/src/stores/postgres/audit-log-repository.ts) appends them to a hash-chained table the
// service's role can neither update nor delete; `npm run audit:verify` walks the chain.

export const auditEventTypes = [
  'authentication.failed',
  'token.issued',
  'token.refreshed',
  'token.reuse_detected',
  'token.revoked',
  'api_key.created',
  'api_key.revoked',
  'role.changed',
  'principal.disabled',
  'principal.enabled',
  'collection.created',
  'collection.deleted',
  'document.created',
  'document.deleted',
  'access.denied',
] as const;
export type AuditEventType = (typeof auditEventTypes)[number];

export interface AuditEvent {
  readonly type: AuditEventType;
  /** The principal id, or null when nobody authenticated (a failed authentication). */
  readonly actor: string | null;
  /** What the event is about: a collection id, a document id, an API key id, a principal id. */
  readonly target?: string;
  readonly collection?: string;
  /** Never a secret: no key, token, password or hash of one. */
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
  readonly sourceIp?: string;
  readonly requestId?: string;
}

export interface AuditLog {
  /** Durable once resolved: security events are never dropped silently. */
  record(event: AuditEvent): Promise<void>;
}
