import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

// Validates custom resources against the OpenAPI schemas of their CRDs, committed as fixtures
// (infra/test/fixtures/crds) from the upstream release each chart installs. Structural schemas
// prune unknown fields and the API server rejects them under strict field validation, so every
// object with declared properties is closed here: a misspelled field fails like a wrong type.

type Schema = Record<string, unknown>;

const crdDir = path.resolve(__dirname, '../fixtures/crds');

interface Crd {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
  };
}

/** The Kubernetes dialect of OpenAPI v3 as JSON Schema: int-or-string, closed objects. */
function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (!node || typeof node !== 'object') return node;
  const schema = Object.fromEntries(
    Object.entries(node as Schema).map(([k, v]) => [
      k,
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, structural(s)]))
        : structural(v),
    ]),
  ) as Schema;
  if (schema['x-kubernetes-int-or-string'] === true && !schema.anyOf) {
    delete schema.type;
    schema.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (
    schema.properties &&
    schema['x-kubernetes-preserve-unknown-fields'] !== true &&
    schema.additionalProperties === undefined
  )
    schema.additionalProperties = false;
  return schema;
}

// Formats (int32, date-time) are the API server's to parse; the shape is what these checks are for.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const validators = new Map<string, ValidateFunction>();
for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) {
  const crd = parse(readFileSync(path.join(crdDir, file), 'utf8')) as Crd;
  for (const v of crd.spec.versions) {
    const schema = structural(v.schema.openAPIV3Schema) as Schema;
    // metadata is validated by the API server's ObjectMeta, not the CRD's schema.
    (schema.properties as Schema).metadata = { type: 'object' };
    validators.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(schema));
  }
}

/** Problems of `object` against its CRD's schema; undefined when no fixture covers its kind. */
export function crdProblems(object: Record<string, unknown>): string[] | undefined {
  const validate = validators.get(`${String(object.apiVersion)}/${String(object.kind)}`);
  if (!validate) return undefined;
  if (validate(object)) return [];
  return (validate.errors ?? []).map(
    (e: ErrorObject) => `${e.instancePath || '/'} ${e.message}${paramsOf(e)}`,
  );
}

function paramsOf(e: ErrorObject): string {
  const p = e.params as { additionalProperty?: string };
  return p.additionalProperty ? `: ${p.additionalProperty}` : '';
}
