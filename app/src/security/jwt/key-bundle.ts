import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { keyExtensions } from './key-directory';
import { isValidKid, KeyFileError, type KeyFile } from './signing-keys';
import {
  WatchedKeyRing,
  type KeyMaterial,
  type KeyMaterialReader,
  type WatchOptions,
} from './watched-key-ring';

// The signing keys as ONE file (JWT_SIGNING_KEYS_FILE): what a single Vault Agent template renders
// from the operators' KV secret `secret/rag-api/keys`, whose kids change with every rotation (a
// fixed set of templates, one file each, cannot follow them). The file is a JSON object holding the
// secret's `jwt-` fields as they are stored:
//
//   { "jwt-2026-12-01.pem": "-----BEGIN PRIVATE KEY-----\n…", "jwt-signing-kid": "2026-12-01" }
//
// `jwt-<kid>.pem|.json|.jwk` is a key (the formats of the key directory), `jwt-signing-kid` names
// the key that signs (else the newest does). Anything else is refused whole, keeping the previous
// ring: a field without the prefix means the template let another secret (the pepper) through, and
// an unknown `jwt-` field is a misnamed key that would otherwise vanish silently.
//
// Vault Agent writes the file by rename, so it is seen whole or not at all; a half-written file
// (any other writer) is not JSON and is refused like any other invalid bundle.

export const bundleFieldPrefix = 'jwt-';
export const bundleSigningKidField = `${bundleFieldPrefix}signing-kid`;

/** The bundle's content as key files; throws KeyFileError (naming fields, never values). */
export function parseKeyBundle(text: string): KeyMaterial {
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    throw new KeyFileError('the key bundle is not JSON (half-written?)');
  }
  // `null` is what the template renders when the secret has no jwt- field at all.
  if (fields === null) throw new KeyFileError('no signing keys');
  if (typeof fields !== 'object' || Array.isArray(fields))
    throw new KeyFileError('the key bundle is not a JSON object');
  const files: KeyFile[] = [];
  let signingKid: string | undefined;
  for (const [field, value] of Object.entries(fields as Record<string, unknown>)) {
    if (!field.startsWith(bundleFieldPrefix))
      throw new KeyFileError(`the key bundle holds ${field}, which is not a jwt- field`);
    if (typeof value !== 'string') throw new KeyFileError(`${field} is not a string`);
    if (field === bundleSigningKidField) {
      signingKid = value.trim();
      continue;
    }
    const name = field.slice(bundleFieldPrefix.length);
    const format = keyExtensions[path.extname(name)];
    if (!format)
      throw new KeyFileError(
        `${field} is neither a key (jwt-<kid>.pem, .json or .jwk) nor ${bundleSigningKidField}`,
      );
    // The field name less its extension, as written (no basename: `jwt-../k1.pem` is no `k1`).
    const kid = name.slice(0, -path.extname(name).length);
    if (!isValidKid(kid)) throw new KeyFileError(`${field}: "${kid}" is not a valid kid`);
    files.push({ kid, format, content: value });
  }
  return { files, signingKid, digest: createHash('sha256').update(text).digest('hex') };
}

export class KeyBundle extends WatchedKeyRing {
  /**
   * Reads the bundle (a start-up failure if it makes no valid ring) and watches its directory:
   * a file replaced by rename is a new inode, which a watch of the file itself would not follow.
   */
  static async open(file: string, options: WatchOptions): Promise<KeyBundle> {
    const reader: KeyMaterialReader = {
      watchDir: path.dirname(file),
      description: file,
      read: async () => parseKeyBundle(await readFile(file, 'utf8')),
    };
    return WatchedKeyRing.start(new KeyBundle(reader, options.logger), options);
  }
}
