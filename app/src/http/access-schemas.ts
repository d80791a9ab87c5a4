import { z } from 'zod';
import { apiKeyScopes } from '../domain/access';
import { collectionRoles } from '../domain/principal';
import { collectionIdSchema } from './schemas';

// Schemas of the credential and membership operations (routes/access-routes.ts).

const principalId = z.uuid().openapi({ example: '6f1d8d7b-0b3f-4b8e-9a59-2f7a4cf40c11' });
const timestamp = z.iso.datetime();

export const principalParams = z.object({ principalId }).strict();
export const memberParams = z.object({ collectionId: collectionIdSchema, principalId }).strict();
export const apiKeyParams = z.object({ keyId: z.uuid() }).strict();

const principalName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'letters, digits, . _ @ -, at most 128');

export const createApiKeyBody = z
  .object({
    name: z
      .string()
      // eslint-disable-next-line no-control-regex -- control characters are what it refuses
      .regex(/^[^\u0000-\u001f]{1,100}$/, '1-100 characters, no control characters')
      .optional(),
    scopes: z.array(z.enum(apiKeyScopes)).min(1).max(3).optional().openapi({
      description:
        "What the key may do, at most: read (query, get, list), write (+ ingest, delete documents, create collections), admin (+ delete collections, manage members and, for a super admin, others' keys). Default: everything the calling credential may do.",
    }),
    expiresInDays: z.number().int().min(1).max(3650).optional().openapi({
      description: 'The key stops working this many days from now (default: never).',
    }),
    principalId: principalId.optional().openapi({
      description: 'Super admins only: the principal the key is for (default: the caller).',
    }),
  })
  .strict()
  .openapi('CreateApiKey');

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    principalId: z.uuid(),
    name: z.string().nullable(),
    prefix: z.string(),
    scopes: z.array(z.enum(apiKeyScopes)),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
    lastUsedAt: timestamp.nullable(),
  })
  .openapi('ApiKey');

export const createdApiKeySchema = z
  .object({
    key: z.string().openapi({ description: 'The key: shown this once, stored nowhere.' }),
    apiKey: apiKeySchema,
  })
  .openapi('CreatedApiKey');

export const apiKeyListQuery = z.object({ principalId: principalId.optional() }).strict();
export const apiKeyListSchema = z.object({ items: z.array(apiKeySchema) }).openapi('ApiKeyList');

export const createPrincipalBody = z
  .object({
    name: principalName,
    superAdmin: z.boolean().optional(),
    tier: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,31}$/)
      .optional(),
  })
  .strict()
  .openapi('CreatePrincipal');

export const principalSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    superAdmin: z.boolean(),
    tier: z.string(),
    disabled: z.boolean().openapi({
      description: 'A disabled principal is refused with any credential until enabled again.',
    }),
    createdAt: timestamp,
  })
  .openapi('Principal');

export const updatePrincipalBody = z
  .object({
    disabled: z.boolean().openapi({
      description:
        'true: every API key and access token of the principal is refused at once, on every instance, and its sign-in sessions end (refresh tokens revoked). false: its API keys work again; ended sessions stay ended.',
    }),
  })
  .strict()
  .openapi('UpdatePrincipal');

export const setMemberBody = z
  .object({ principalId, role: z.enum(collectionRoles) })
  .strict()
  .openapi('SetMember');

export const memberListSchema = z
  .object({
    items: z.array(
      z.object({ principalId: z.uuid(), name: z.string(), role: z.enum(collectionRoles) }),
    ),
  })
  .openapi('MemberList');

/** Small JSON bodies: every field at its maximum, escaped, fits many times over. */
export const accessBodyLimit = 4096;
