import type { RoleStore } from '../../src/domain/access';
import type { AuditEvent } from '../../src/domain/audit';
import { CollectionAccess } from '../../src/use-cases/collection-access';

export { systemPrincipal } from '../../src/use-cases/collection-access';

/**
 * Authorization for tests that build use cases by hand: roles from `roles` (a PrincipalsRepository)
 * or none (then only super admins such as systemPrincipal get anywhere); audit events are kept in
 * `events`.
 */
export function testAccess(roles?: Pick<RoleStore, 'roleOn'>): {
  access: CollectionAccess;
  events: AuditEvent[];
} {
  const events: AuditEvent[] = [];
  const access = new CollectionAccess({
    roles: roles ?? { roleOn: async () => undefined },
    audit: { record: async (event) => void events.push(event) },
    logger: { warn: () => undefined },
  });
  return { access, events };
}
