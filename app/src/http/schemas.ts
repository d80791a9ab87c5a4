import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { documentStatuses, mediaTypes } from '../domain/document';

// Request and response schemas of the public API. They validate every request and, through
// zod-to-openapi, are the OpenAPI document: one definition for both.
extendZodWithOpenApi(z);

/**
 * Text that ends up in Postgres, whose text and jsonb types cannot hold U+0000: refused here, or the
 * database would turn a client's mistake into a 500.
 */
const storableText = () =>
  // A pattern rather than a refinement, so the OpenAPI document carries the rule too.
  // eslint-disable-next-line no-control-regex
  z.string().regex(/^[^\u0000]*$/, 'must not contain NUL (U+0000) characters');

/** Some character that is not whitespace in JavaScript's sense (what String#trim removes). */
const notBlank = /[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

export const collectionIdSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,62}$/,
    'lowercase letter first, then letters, digits, - or _, at most 63',
  )
  .openapi({
    description:
      "Collection id: the name its creator chose, unique among live collections. Paths, documents' collectionId and the query's collection all carry this id.",
    example: 'oncall',
  });

export const documentIdSchema = z
  .uuid()
  .openapi({ example: '0b3f4b8e-2f7a-4cf4-9a59-6f1d8d7b0c11' });

/**
 * Names JavaScript gives a meaning on every object. `__proto__` in particular is dropped when an
 * object is built from the parsed body (it sets the prototype instead), so such a key was stored as
 * nothing and a filter on it matched everything; all three are refused rather than special-cased
 * through every store.
 */
export const reservedMetadataKeys = ['__proto__', 'constructor', 'prototype'] as const;
const metadataKeyPattern = /^[A-Za-z0-9_.-]{1,64}$/;
const maxMetadataEntries = 32;

const metadataRecord = z
  .record(
    z.string().regex(metadataKeyPattern, 'metadata keys: 1-64 of A-Z a-z 0-9 _ . -'),
    storableText().max(512),
  )
  .refine(
    (m) => Object.keys(m).length <= maxMetadataEntries,
    `at most ${maxMetadataEntries} metadata entries`,
  );

// zod skips a `__proto__` key without a word (so that it cannot set the prototype of the object it
// builds), so the reserved keys are looked for in the parsed JSON itself, before the record.
const metadataSchema = z
  .preprocess((input, ctx) => {
    if (input !== null && typeof input === 'object') {
      for (const key of reservedMetadataKeys) {
        if (Object.prototype.hasOwnProperty.call(input, key)) {
          ctx.addIssue({
            code: 'custom',
            message: `metadata keys must not be ${reservedMetadataKeys.join(', ')}`,
            path: [key],
            input,
          });
        }
      }
    }
    return input;
  }, metadataRecord)
  .openapi({
    description: `String metadata, filterable in queries. Keys: 1-64 of A-Z a-z 0-9 _ . -, not ${reservedMetadataKeys.join(', ')}; at most ${maxMetadataEntries} entries.`,
    example: { team: 'sre' },
    // JSON Schema keywords zod-to-openapi does not derive from a record (its types omit them).
    ...({
      propertyNames: {
        type: 'string',
        pattern: metadataKeyPattern.source,
        not: { enum: [...reservedMetadataKeys] },
      },
      maxProperties: maxMetadataEntries,
    } as object),
  });

const timestamp = z.iso.datetime();

const pageLimit = z.coerce.number().int().min(1).max(100).default(20);

export const collectionListQuery = z
  .object({
    limit: pageLimit,
    cursor: collectionIdSchema.optional().openapi({
      description: 'nextCursor of the previous page: the last collection id it listed.',
    }),
  })
  .strict();

export const collectionParams = z.object({ collectionId: collectionIdSchema }).strict();
export const documentParams = z
  .object({ collectionId: collectionIdSchema, documentId: documentIdSchema })
  .strict();

export const createCollectionBody = z
  .object({
    id: collectionIdSchema,
    description: storableText().max(1000).optional(),
  })
  .strict()
  .openapi('CreateCollection');

export const collectionSchema = z
  .object({
    id: collectionIdSchema,
    description: z.string().nullable(),
    embeddingModel: z.string(),
    dimensions: z.number().int(),
    indexVersion: z.number().int(),
    createdAt: timestamp,
  })
  .openapi('Collection');

export const collectionListSchema = z
  .object({ items: z.array(collectionSchema), nextCursor: z.string().nullable() })
  .openapi('CollectionList');

export const ingestDocumentBody = z
  .object({
    source: storableText().min(1).max(512).optional().openapi({
      description:
        'Client key of the document within the collection (e.g. a path). Re-ingesting the same source replaces it; defaults to the content hash.',
      example: 'runbooks/PostgresPrimaryDown.md',
    }),
    title: storableText().min(1).max(512).optional(),
    mediaType: z.enum(mediaTypes).default('text/markdown'),
    content: storableText().min(1, 'content must not be empty'),
    metadata: metadataSchema.optional(),
  })
  .strict()
  .openapi('IngestDocument');

export const documentSchema = z
  .object({
    id: documentIdSchema,
    collectionId: collectionIdSchema,
    source: z.string(),
    title: z.string().nullable(),
    mediaType: z.enum(mediaTypes),
    contentHash: z.string(),
    sizeBytes: z.number().int(),
    metadata: z.record(z.string(), z.string()),
    status: z.enum(documentStatuses),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    chunkCount: z.number().int(),
    acceptedAt: timestamp,
    indexedAt: timestamp.nullable(),
  })
  .openapi('Document');

export const ingestResultSchema = z
  .object({
    outcome: z.enum(['created', 'replaced', 'unchanged']),
    document: documentSchema,
  })
  .openapi('IngestResult');

export const documentListQuery = z
  .object({
    limit: pageLimit,
    cursor: z
      .string()
      .regex(/^[0-9]{1,18}$/, 'a nextCursor from the previous page')
      .optional()
      .openapi({ description: 'nextCursor of the previous page.' }),
    status: z.enum(documentStatuses).optional(),
  })
  .strict();

export const documentListSchema = z
  .object({ items: z.array(documentSchema), nextCursor: z.string().nullable() })
  .openapi('DocumentList');

export const queryBody = z
  .object({
    collection: collectionIdSchema,
    // max before trim and a pattern instead of min-after-trim, so the OpenAPI document states the
    // same rule: at most 2000 characters, at least one of them not whitespace.
    query: z.string().max(2000).regex(notBlank, 'query must not be empty').trim(),
    topK: z.number().int().min(1).max(50).default(5),
    filter: z
      .object({
        documentIds: z.array(documentIdSchema).min(1).max(100).optional(),
        metadata: metadataSchema.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .openapi('Query');

export const citationSchema = z
  .object({
    documentId: documentIdSchema,
    chunkId: z.string(),
    score: z.number(),
    snippet: z.string(),
    source: z.string(),
    title: z.string().nullable(),
  })
  .openapi('Citation');

export const queryResultSchema = z
  .object({
    answer: z.string(),
    citations: z.array(citationSchema),
    answerer: z.enum(['chat', 'extractive']),
    // Present only where the service exposes query diagnostics (EXPOSE_QUERY_DIAGNOSTICS).
    cached: z.boolean().optional(),
    indexVersion: z.number().int(),
  })
  .openapi('QueryResult');

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');
