import type { z } from 'zod';
import type { ApiKeyInfo, StoredPrincipal } from '../../domain/access';
import { defineRoute, type ApiRoute } from '../api-route';
import {
  accessBodyLimit,
  apiKeyListQuery,
  apiKeyListSchema,
  apiKeyParams,
  apiKeySchema,
  createApiKeyBody,
  createdApiKeySchema,
  createPrincipalBody,
  memberListSchema,
  memberParams,
  principalParams,
  principalSchema,
  setMemberBody,
  updatePrincipalBody,
} from '../access-schemas';
import { collectionParams } from '../schemas';
import type { ApiDependencies } from './api-dependencies';

// Credentials and membership: API keys (own; a super admin's for anyone), principals (super
// admins: create, disable, enable), a collection's members (its admins). Authorization is the use
// cases'.

export function accessRoutes(deps: ApiDependencies): ApiRoute[] {
  const { apiKeys, members, principals } = deps;
  return [
    defineRoute({
      method: 'post',
      path: '/v1/api-keys',
      operationId: 'createApiKey',
      summary: 'Create an API key (shown once) for yourself, or as a super admin for anyone',
      tags: ['access'],
      body: createApiKeyBody,
      maxBodyBytes: accessBodyLimit,
      responses: {
        201: { description: 'Created; `key` is shown this once.', schema: createdApiKeySchema },
      },
      problems: [404, 503],
      async handle({ body, principal }) {
        const { expiresInDays, ...rest } = body;
        const created = await apiKeys.create(principal, {
          ...rest,
          expiresAt:
            expiresInDays === undefined
              ? undefined
              : new Date(Date.now() + expiresInDays * 86_400_000),
        });
        return {
          status: 201,
          body: { key: created.key, apiKey: toApiKey(created.info) },
          headers: { 'Cache-Control': 'no-store' },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/api-keys',
      operationId: 'listApiKeys',
      summary: 'List your API keys (never the keys themselves)',
      tags: ['access'],
      query: apiKeyListQuery,
      responses: { 200: { description: 'The keys.', schema: apiKeyListSchema } },
      problems: [404, 503],
      async handle({ query, principal }) {
        const items = await apiKeys.list(principal, query.principalId);
        return { status: 200, body: { items: items.map(toApiKey) } };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/api-keys/:keyId',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key',
      tags: ['access'],
      params: apiKeyParams,
      responses: { 204: { description: 'Revoked.' } },
      problems: [404, 503],
      async handle({ params, principal }) {
        await apiKeys.revoke(principal, params.keyId);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/principals',
      operationId: 'createPrincipal',
      summary: 'Create a principal (super admins)',
      tags: ['access'],
      body: createPrincipalBody,
      maxBodyBytes: accessBodyLimit,
      responses: { 201: { description: 'Created.', schema: principalSchema } },
      problems: [409, 503],
      async handle({ body, principal }) {
        const created = await apiKeys.createPrincipal(principal, body);
        return { status: 201, body: toPrincipal(created) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/principals/:principalId',
      operationId: 'updatePrincipal',
      summary:
        'Disable a principal (every credential refused at once, sessions ended) or enable it again (super admins)',
      tags: ['access'],
      params: principalParams,
      body: updatePrincipalBody,
      maxBodyBytes: accessBodyLimit,
      responses: { 200: { description: 'The principal as it is now.', schema: principalSchema } },
      problems: [404, 409, 503],
      async handle({ params, body, principal }, req) {
        const requestId = req.res?.getHeader('X-Request-Id');
        const updated = await principals.setDisabled(principal, params.principalId, body.disabled, {
          ...(req.ip ? { sourceIp: req.ip } : {}),
          ...(typeof requestId === 'string' ? { requestId } : {}),
        });
        return { status: 200, body: toPrincipal(updated) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/collections/:collectionId/members',
      operationId: 'listMembers',
      summary: "List a collection's members and their roles (its admins)",
      tags: ['access'],
      params: collectionParams,
      responses: { 200: { description: 'The members.', schema: memberListSchema } },
      problems: [404, 503],
      async handle({ params, principal }) {
        return { status: 200, body: { items: await members.list(principal, params.collectionId) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/collections/:collectionId/members',
      operationId: 'setMember',
      summary: 'Grant a principal a role on the collection (its admins)',
      tags: ['access'],
      params: collectionParams,
      body: setMemberBody,
      maxBodyBytes: accessBodyLimit,
      responses: { 204: { description: 'Granted.' } },
      problems: [404, 503],
      async handle({ params, body, principal }) {
        await members.set(principal, params.collectionId, body.principalId, body.role);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/collections/:collectionId/members/:principalId',
      operationId: 'removeMember',
      summary: "Remove a principal's role on the collection (its admins)",
      tags: ['access'],
      params: memberParams,
      responses: { 204: { description: 'Removed.' } },
      problems: [404, 503],
      async handle({ params, principal }) {
        await members.set(principal, params.collectionId, params.principalId, null);
        return { status: 204 };
      },
    }),
  ];
}

function toPrincipal(p: StoredPrincipal): z.infer<typeof principalSchema> {
  return {
    id: p.id,
    name: p.name,
    superAdmin: p.superAdmin,
    tier: p.tier,
    disabled: p.disabled,
    createdAt: p.createdAt.toISOString(),
  };
}

function toApiKey(k: ApiKeyInfo): z.infer<typeof apiKeySchema> {
  return {
    id: k.id,
    principalId: k.principalId,
    name: k.name,
    prefix: k.prefix,
    scopes: [...k.scopes],
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  };
}
