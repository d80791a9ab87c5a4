import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import type { StackConfig } from '../../config/stack-config';
import { parseStackConfig } from '../../config/stack-config';
import {
  loadGeneratedArtifacts,
  type GeneratedArtifacts,
} from '../../observability/generated-artifacts';
// Safe to import before the mocks: the module declares resources only when deployPlatform runs.
import { deployPlatform } from '../../platform';
import type { StackOutputs } from '../../stack-outputs';

export const repoRoot = path.resolve(__dirname, '../../..');
/** A generated-files tree in the shape alerts/ and dashboards/ produce, for the loader's own tests. */
export const fixtureRoot = path.resolve(__dirname, '../fixtures/repo');
export const stacks = ['dev', 'staging', 'production'] as const;
export type StackName = (typeof stacks)[number];

export interface CapturedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /**
   * The custom resources the engine must create first (explicit `dependsOn`, expanded through
   * components, plus resources whose outputs feed the inputs), as `<type>::<name>` keys.
   */
  dependencies: string[];
  /** `<type>::<name>` of the explicit provider the resource was declared with, if any. */
  provider?: string;
  /** The `protect` and `retainOnDelete` options it was declared with. */
  protect: boolean;
  retainOnDelete: boolean;
}

/** How `CapturedResource.dependencies` names a resource. */
export function resourceKey(r: { type: string; name: string }): string {
  return `${r.type}::${r.name}`;
}

export interface StackRun {
  config: StackConfig;
  artifacts: GeneratedArtifacts;
  resources: CapturedResource[];
  outputs: Record<string, unknown>;
  /** Names of the outputs the engine stores encrypted (`pulumi stack output` hides them). */
  secretOutputs: string[];
  ofType(type: string): CapturedResource[];
}

/** The committed Pulumi.<stack>.yaml as the flat map the engine hands the program. */
export function stackConfigMap(stack: StackName): Record<string, string> {
  const doc = parse(readFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), 'utf8')) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(doc.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

/** Receiver secrets are set with `pulumi config set --secret`, never committed: supply them as the CLI would. */
function receiverSecretsFor(artifacts: GeneratedArtifacts): Record<string, string> {
  return Object.fromEntries(
    artifacts.receiverSecretFiles.map((f) => [
      f,
      f.endsWith('-url') ? `https://receivers.test/${f}` : `test-value-of-${f}`,
    ]),
  );
}

/** Provider ids; AWS's prefixed forms where objects validate them (EC2NodeClass subnet terms). */
function mockId(type: string, name: string): string {
  if (type === 'aws:ec2/subnet:Subnet') return `subnet-${Buffer.from(name).toString('hex')}`;
  return `${name}-id`;
}

/** Fake values for what providers compute, so code reading them (kubeconfig, URLs) runs. */
function computedState(
  type: string,
  name: string,
  inputs: Record<string, any>,
): Record<string, unknown> {
  const arn = `arn:aws:mock:eu-west-1:111111111111:${name}`;
  // Providers auto-name resources whose name is not set; the mocks do the same.
  const base = { name, ...inputs, arn };
  switch (type) {
    case 'aws:eks/cluster:Cluster':
      return {
        ...base,
        name,
        endpoint: `https://${name}.eks.mock`,
        certificateAuthority: { data: 'Q0E=' },
        identities: [
          { oidcs: [{ issuer: `https://oidc.eks.eu-west-1.amazonaws.com/id/${name}` }] },
        ],
        vpcConfig: { ...inputs.vpcConfig, clusterSecurityGroupId: `sg-${name}` },
      };
    case 'aws:rds/instance:Instance':
      return { ...base, identifier: name, address: `${name}.rds.mock` };
    case 'aws:rds/proxy:Proxy':
      return { ...base, name, endpoint: `${name}.proxy.mock` };
    case 'aws:elasticache/replicationGroup:ReplicationGroup':
      return { ...base, primaryEndpointAddress: `${name}.cache.mock` };
    case 'aws:s3/bucket:Bucket':
      return { ...base, bucket: `${name}-bucket` };
    case 'aws:kms/key:Key':
      return { ...base, keyId: `key-${name}` };
    case 'aws:ec2/launchTemplate:LaunchTemplate':
      return { ...base, latestVersion: 1 };
    case 'random:index/randomPassword:RandomPassword':
      return { ...inputs, result: `pw-${name}` };
    case 'kubernetes:networking.k8s.io/v1:Ingress':
      return {
        ...inputs,
        metadata: { ...inputs.metadata, name: inputs.metadata?.name ?? name },
        status: { loadBalancer: { ingress: [{ hostname: `k8s-${name}.elb.mock` }] } },
      };
    case 'kubernetes:helm.sh/v3:Release':
      return { ...inputs, status: { name: inputs.name ?? name } };
  }
  if (type.startsWith('kubernetes:'))
    return { ...inputs, metadata: { ...inputs.metadata, name: inputs.metadata?.name ?? name } };
  return base;
}

const runs = new Map<string, Promise<StackRun>>();
let lastRun: Promise<unknown> = Promise.resolve();

/**
 * Runs the platform for a stack under Pulumi's mocks and captures every resource it declares.
 * A run is a pure function of the stack, its committed config and the overrides, and most test
 * files ask for the same three stacks: each distinct run happens once per process and is shared,
 * frozen so that no test can change what another one reads. Runs never overlap, because the
 * mocks and the stack config are process-wide.
 */
export function runStack(
  stack: StackName,
  configOverrides: Record<string, string> = {},
): Promise<StackRun> {
  const key = JSON.stringify([stack, configOverrides]);
  let run = runs.get(key);
  if (!run) {
    run = lastRun.then(
      () => runStackOnce(stack, configOverrides).then(deepFreeze),
      () => runStackOnce(stack, configOverrides).then(deepFreeze),
    );
    lastRun = run;
    runs.set(key, run);
  }
  return run;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

async function runStackOnce(
  stack: StackName,
  configOverrides: Record<string, string>,
): Promise<StackRun> {
  // The files alerts/ and dashboards/ generate and commit: the same ones `pulumi up` ships.
  const artifacts = loadGeneratedArtifacts(repoRoot);
  const resources: CapturedResource[] = [];
  const dependenciesByKey = new Map<string, string[]>();
  const optionsByKey = new Map<string, { protect: boolean; retainOnDelete: boolean }>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        resources.push({
          type: args.type,
          name: args.name,
          inputs: unwrapSecrets(args.inputs),
          dependencies: dependenciesByKey.get(resourceKey(args)) ?? [],
          ...(optionsByKey.get(resourceKey(args)) ?? { protect: false, retainOnDelete: false }),
          ...(args.provider
            ? { provider: keyOfUrn(args.provider.split('::').slice(0, -1).join('::')) }
            : {}),
        });
        return {
          id: mockId(args.type, args.name),
          state: computedState(args.type, args.name, args.inputs),
        };
      },
      call: (args) => ({ ...args.inputs }),
    },
    'rag-platform',
    stack,
    false,
  );
  recordDependencies(dependenciesByKey, optionsByKey);
  const raw = {
    ...stackConfigMap(stack),
    'rag-platform:alertmanagerReceiverSecrets': JSON.stringify(receiverSecretsFor(artifacts)),
    ...configOverrides,
  };
  pulumi.runtime.setAllConfig(raw, ['rag-platform:alertmanagerReceiverSecrets']);
  const config = parseStackConfig('rag-platform', pulumi.runtime.allConfig());
  const declared: StackOutputs = deployPlatform(config, artifacts);
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(declared)) {
    outputs[key] = await resolve(value);
    if (await pulumi.isSecret(pulumi.output(value))) secretOutputs.push(key);
  }
  await settled(resources);
  return {
    config,
    artifacts,
    resources,
    outputs,
    secretOutputs,
    ofType: (type) => resources.filter((r) => r.type === type),
  };
}

interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
}

/**
 * Pulumi's mocks hand `newResource` the inputs but not the options. The request the SDK sends the
 * (mock) resource monitor carries the dependency URNs the engine would order the deployment by, so
 * wrap the monitor's registerResource and keep them, keyed like the captured resources.
 */
function recordDependencies(
  into: Map<string, string[]>,
  options: Map<string, { protect: boolean; retainOnDelete: boolean }>,
): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterResourceRequest, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const key = resourceKey({ type: req.getType(), name: req.getName() });
    if (into.has(key)) throw new Error(`two resources are registered as ${key}`);
    into.set(key, req.getDependenciesList().map(keyOfUrn));
    options.set(key, {
      protect: req.getProtect() === true,
      retainOnDelete: req.getRetainondelete() === true,
    });
    return register(req, callback);
  };
}

/** `urn:pulumi:<stack>::<project>::<parent types$>type::name` -> `type::name`. */
function keyOfUrn(urn: string): string {
  const parts = urn.split('::');
  const type = parts[2].split('$').pop() ?? parts[2];
  return resourceKey({ type, name: parts.slice(3).join('::') });
}

const secretSig = '4dabf18193072939515e22adb298388d';

/** The engine unwraps secret envelopes before providers see inputs; policies and schemas see the same. */
function unwrapSecrets(value: any): any {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === 'object') {
    if (secretSig in value) return unwrapSecrets(value.value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

export function resolve<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise((done) =>
    pulumi.output(value).apply((v) => {
      done(v as T);
      return v;
    }),
  );
}

/**
 * Waits until every declared resource has reached the mocks. Pulumi counts each registration as an
 * outstanding RPC from the moment the resource is declared until the monitor answers (inputs are
 * awaited in between), and `disconnect()` waits for that queue to drain; under mocks it closes
 * nothing and the next `setMocks` starts afresh. A resource declared inside an `apply` is only
 * declared once an earlier registration resolves (after a macrotask at the latest), so drain again
 * until a round adds none.
 */
async function settled(resources: unknown[]): Promise<void> {
  for (let before = -1; before !== resources.length;) {
    before = resources.length;
    await pulumi.runtime.disconnect();
    await new Promise((r) => setImmediate(r));
  }
}
