import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { parseStackConfig, stackConfigSchema, StackConfigError } from '../config/stack-config';
import { repoRoot, stackConfigMap } from './support/stack-under-mocks';

const withKey = (stack: 'dev' | 'staging' | 'production', key: string, value: unknown) => ({
  ...stackConfigMap(stack),
  [`rag-platform:${key}`]: typeof value === 'string' ? value : JSON.stringify(value),
});
const problems = (raw: Record<string, string>) => {
  try {
    parseStackConfig('rag-platform', raw);
  } catch (err) {
    assert.ok(err instanceof StackConfigError);
    return err.problems;
  }
  assert.fail('expected the configuration to be rejected');
};

describe('infra stack config', () => {
  it('accepts every committed stack file', () => {
    for (const stack of ['dev', 'staging', 'production'] as const)
      parseStackConfig('rag-platform', stackConfigMap(stack));
  });

  it('rejects an unknown key naming it', () => {
    const postgres = {
      ...JSON.parse(stackConfigMap('production')['rag-platform:postgres']),
      readReplica: 2,
    };
    assert.deepEqual(problems(withKey('production', 'postgres', postgres)), [
      'rag-platform:postgres.readReplica: unknown key',
    ]);
    assert.deepEqual(problems(withKey('staging', 'colour', 'blue')), [
      'rag-platform:colour: unknown key',
    ]);
  });

  it('rejects a wrong type with a message naming the key', () => {
    const qdrant = {
      ...JSON.parse(stackConfigMap('staging')['rag-platform:qdrant']),
      replicas: 'three',
    };
    const [message] = problems(withKey('staging', 'qdrant', qdrant));
    assert.match(message, /^rag-platform:qdrant\.replicas: .*number/);
  });

  it('enforces the production invariants', () => {
    const postgres = {
      ...JSON.parse(stackConfigMap('production')['rag-platform:postgres']),
      readReplicas: 1,
      multiAz: false,
    };
    assert.deepEqual(problems(withKey('production', 'postgres', postgres)).sort(), [
      'rag-platform:postgres.multiAz: must be true in production',
      'rag-platform:postgres.readReplicas: must be >= 2 in production',
    ]);
    const app = {
      ...JSON.parse(stackConfigMap('production')['rag-platform:app']),
      image: 'repo/rag:1.2.3',
    };
    assert.deepEqual(problems(withKey('production', 'app', app)), [
      'rag-platform:app.image: must be pinned by digest (repo@sha256:...)',
    ]);
  });

  it("accepts only the service's own settings, minus the ones the platform wires", () => {
    const app = JSON.parse(stackConfigMap('staging')['rag-platform:app']);
    const settings = (extra: Record<string, string>) =>
      withKey('staging', 'app', { ...app, settings: { ...app.settings, ...extra } });
    parseStackConfig('rag-platform', settings({ CHUNK_SIZE: '600' }));
    assert.deepEqual(problems(settings({ CHUNK_SIZ: '600' })), [
      'rag-platform:app.settings.CHUNK_SIZ: is not a setting of the service (app/src/config.ts)',
    ]);
    assert.deepEqual(problems(settings({ DATABASE_URL: 'postgres://x' })), [
      'rag-platform:app.settings.DATABASE_URL: is set by the platform, not the stack',
    ]);
  });

  it("README's production retirement steps ask for no setting the program refuses", () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const destroying = /\*\*Destroying\.\*\*([\s\S]*?)\n\n/.exec(readme)?.[1];
    assert.ok(destroying, 'README Deploying has a Destroying paragraph');
    assert.match(destroying, /pulumi state unprotect/);
    assert.match(destroying, /pulumi destroy/);
    // Every `section.key: value` the steps tell an operator to set must pass validation.
    for (const [, section, key, value] of destroying.matchAll(/`(\w+)\.(\w+): ([^`]+)`/g)) {
      const current = JSON.parse(stackConfigMap('production')[`rag-platform:${section}`]);
      parseStackConfig(
        'rag-platform',
        withKey('production', section, { ...current, [key]: JSON.parse(value) }),
      );
    }
  });

  it('documents every key', () => {
    const undocumented: string[] = [];
    const walk = (schema: z.ZodType, at: string): void => {
      const s = schema as unknown as {
        shape?: Record<string, z.ZodType>;
        options?: z.ZodType[];
        unwrap?: () => z.ZodType;
      };
      if (s.options) return s.options.forEach((o) => walk(o, at));
      if (s.shape) {
        for (const [key, child] of Object.entries(s.shape)) {
          if (!child.description) undocumented.push(`${at}${key}`);
          walk(child, `${at}${key}.`);
        }
      } else if (typeof s.unwrap === 'function') walk(s.unwrap(), at);
    };
    walk(stackConfigSchema, '');
    assert.deepEqual(undocumented, []);
  });
});
