import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidInputError } from '../../../src/domain/errors';
import {
  metadataPayloadPath,
  qdrantPayloadPath,
} from '../../../src/stores/vector/qdrant-payload-path';

/**
 * Qdrant's path grammar, transcribed from qdrant/qdrant lib/segment/src/json_path/parse.rs: a first
 * key (bare or quoted), then `.key`, `."key"`, `[n]` or `[]`. Bare keys are alphanumeric, `_`, `-`;
 * quoted keys are anything but `"` and `\`, read verbatim. Returns the keys, or undefined when
 * Qdrant would answer 400 ("Invalid json path").
 */
function parseQdrantPath(path: string): string[] | undefined {
  const keys: string[] = [];
  let rest = path;
  const take = (): boolean => {
    const bare = /^[\p{Alphabetic}\p{N}_-]+/u.exec(rest);
    const quoted = /^"([^"\\]*)"/.exec(rest);
    const m = bare ?? quoted;
    if (!m) return false;
    keys.push(bare ? m[0] : m[1]);
    rest = rest.slice(m[0].length);
    return true;
  };
  if (!take()) return undefined;
  while (rest.length > 0) {
    if (rest.startsWith('.')) {
      rest = rest.slice(1);
      if (!take()) return undefined;
    } else return undefined; // array selectors never appear in what the adapter builds
  }
  return keys;
}

describe('Qdrant payload paths', () => {
  it('writes plain keys bare and quotes keys with dots, as Qdrant reads them', () => {
    assert.equal(metadataPayloadPath('team'), 'metadata.team');
    assert.equal(metadataPayloadPath('a-b_9'), 'metadata.a-b_9');
    assert.equal(metadataPayloadPath('a.b'), 'metadata."a.b"');
    assert.equal(metadataPayloadPath('.a'), 'metadata.".a"');
    assert.equal(metadataPayloadPath('a.'), 'metadata."a."');
    assert.equal(metadataPayloadPath('a..b'), 'metadata."a..b"');
    assert.equal(metadataPayloadPath('with space[0]'), 'metadata."with space[0]"');
    assert.equal(qdrantPayloadPath(['collection_id']), 'collection_id');
  });

  it('the unquoted form is what broke: Qdrant reads it as a nested path or refuses it', () => {
    assert.deepEqual(parseQdrantPath('metadata.a.b'), ['metadata', 'a', 'b']);
    for (const bad of ['metadata..a', 'metadata.a.', 'metadata.a..b']) {
      assert.equal(parseQdrantPath(bad), undefined, bad);
    }
  });

  it('property: every metadata key the API accepts reads back from its path as exactly that key', () => {
    // The API's metadata key pattern (app/src/http/schemas.ts): 1-64 of A-Z a-z 0-9 _ . -
    const apiKey = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);
    fc.assert(
      fc.property(apiKey, (key) => {
        assert.deepEqual(parseQdrantPath(metadataPayloadPath(key)), ['metadata', key]);
      }),
      { numRuns: 2_000 },
    );
  });

  it('property: any key without " or \\ round-trips, unicode and brackets included', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 20, unit: 'grapheme' }), (key) => {
        fc.pre(!key.includes('"') && !key.includes('\\'));
        assert.deepEqual(parseQdrantPath(metadataPayloadPath(key)), ['metadata', key]);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses, as invalid input, a key Qdrant has no path for', () => {
    assert.throws(() => metadataPayloadPath('say "hi"'), InvalidInputError);
    assert.throws(() => metadataPayloadPath('back\\slash'), InvalidInputError);
  });
});
