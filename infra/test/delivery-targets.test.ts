import assert from 'node:assert/strict';
import { ecrPullActions } from '../components/image-registry';
import { previewersGroup, previewWritableApiGroups } from '../components/preview-access';
import { parseStackConfig } from '../config/stack-config';
import { runStack, stackConfigMap } from './support/stack-under-mocks';

// What the deploy path needs from the program before its first run: a registry the build can push
// to and production can pull from, and a public name that resolves to the service.

const accountOf = (arn: string) => /^arn:aws:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):/.exec(arn)?.[1];
const imageRepository = (image: string) => {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^@:]+)@sha256:[a-f0-9]{64}$/.exec(
    image,
  );
  assert.ok(m, `${image} is an ECR image pinned by digest`);
  return { account: m[1], region: m[2], name: m[3] };
};
const withReceiverSecrets = (stack: 'staging' | 'production') => stackConfigMap(stack);

describe('delivery targets: image registry and DNS', () => {
  it('staging creates the ECR repository its images live in, immutable and kept when the stack goes', async () => {
    const run = await runStack('staging');
    const repos = run.ofType('aws:ecr/repository:Repository');
    assert.equal(repos.length, 1);
    const image = imageRepository(run.config.app.image);
    assert.equal(repos[0].inputs.name, image.name);
    assert.equal(repos[0].inputs.imageTagMutability, 'IMMUTABLE');
    const staging = run.config.environment === 'staging' ? run.config : undefined;
    assert.ok(staging);
    assert.equal(accountOf(staging.cluster.adminRoleArns[0]), image.account, 'same account');
  });

  it('production runs an image from staging’s registry, which grants production’s account the pull', async () => {
    const staging = await runStack('staging');
    const production = await runStack('production');
    assert.equal(production.ofType('aws:ecr/repository:Repository').length, 0);
    const image = imageRepository(production.config.app.image);
    const stagingImage = imageRepository(staging.config.app.image);
    assert.deepEqual(image, stagingImage, 'the same repository staging builds into');
    assert.ok(production.config.environment === 'production');
    const productionAccount = accountOf(production.config.cluster.adminRoleArns[0]);
    assert.ok(productionAccount && productionAccount !== image.account, 'another account');
    const [policy] = staging.ofType('aws:ecr/repositoryPolicy:RepositoryPolicy');
    assert.ok(policy, 'a repository policy');
    const statements: { Effect: string; Principal: { AWS: string[] }; Action: string[] }[] =
      JSON.parse(policy.inputs.policy).Statement;
    const grant = statements.find((s) =>
      s.Principal.AWS.includes(`arn:aws:iam::${productionAccount}:root`),
    );
    assert.ok(grant, 'production’s account is a principal');
    assert.equal(grant.Effect, 'Allow');
    for (const action of ecrPullActions) assert.ok(grant.Action.includes(action), action);
    // The account-level grant only delegates: production's node roles must hold the ECR read policy.
    const nodeRoles = production
      .ofType('aws:iam/rolePolicyAttachment:RolePolicyAttachment')
      .filter((a) => a.inputs.policyArn.endsWith('/AmazonEC2ContainerRegistryReadOnly'));
    assert.ok(nodeRoles.length >= 2, 'managed nodes and Karpenter nodes may pull from ECR');
  });

  for (const stack of ['staging', 'production'] as const) {
    it(`${stack}: app.host resolves through Route 53 to the Ingress’s load balancer`, async () => {
      const run = await runStack(stack);
      assert.ok(run.config.environment !== 'dev');
      const records = run.ofType('aws:route53/record:Record');
      const record = records.find((r) => r.inputs.name === run.config.app.host);
      assert.ok(record, `a record for ${run.config.app.host}`);
      assert.equal(record.inputs.zoneId, run.config.dns.hostedZoneId);
      assert.equal(record.inputs.type, 'CNAME');
      const [ingress] = run
        .ofType('kubernetes:networking.k8s.io/v1:Ingress')
        .filter((i) =>
          i.inputs.spec.rules.some((r: { host: string }) => r.host === run.config.app.host),
        );
      assert.ok(ingress);
      assert.deepEqual(record.inputs.records, [`k8s-${ingress.name}.elb.mock`]);
    });

    it(`${stack}: Grafana's host (every dashboard_url) resolves through Route 53 to its Ingress`, async () => {
      const run = await runStack(stack);
      assert.ok(run.config.environment !== 'dev');
      const host = run.config.observability.grafanaHost;
      const record = run.ofType('aws:route53/record:Record').find((r) => r.inputs.name === host);
      assert.ok(record, `a record for ${host}`);
      assert.equal(record.inputs.zoneId, run.config.dns.hostedZoneId);
      const [ingress] = run
        .ofType('kubernetes:networking.k8s.io/v1:Ingress')
        .filter((i) => i.inputs.spec.rules.some((r: { host: string }) => r.host === host));
      assert.ok(ingress, `an Ingress for ${host}`);
      assert.deepEqual(record.inputs.records, [`k8s-${ingress.name}.elb.mock`]);
    });
  }

  for (const stack of ['staging', 'production'] as const) {
    it(`${stack}: pull-request previews reach the cluster read-only, their writes dry runs only`, async () => {
      const run = await runStack(stack);
      assert.ok(run.config.environment !== 'dev');
      const { previewRoleArns, adminRoleArns } = run.config.cluster;
      assert.ok(previewRoleArns.length > 0);
      assert.deepEqual(
        previewRoleArns.filter((r) => adminRoleArns.includes(r)),
        [],
        'no preview role is a cluster admin',
      );
      const entries = run
        .ofType('aws:eks/accessEntry:AccessEntry')
        .filter((e) => previewRoleArns.includes(e.inputs.principalArn));
      assert.equal(entries.length, previewRoleArns.length);
      for (const e of entries) {
        assert.deepEqual(e.inputs.kubernetesGroups, [previewersGroup]);
        assert.equal(e.inputs.type, 'STANDARD');
        assert.ok(
          e.dependencies.some((d) =>
            d.startsWith(
              'kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding::',
            ),
          ),
          'the entry waits for the policy binding',
        );
      }
      const granted = run
        .ofType('aws:eks/accessPolicyAssociation:AccessPolicyAssociation')
        .map((a) => a.inputs.principalArn);
      for (const r of previewRoleArns) assert.ok(!granted.includes(r), `${r} has no access policy`);

      const [policy] = run.ofType(
        'kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy',
      );
      assert.equal(policy.inputs.spec.failurePolicy, 'Fail');
      assert.deepEqual(
        policy.inputs.spec.validations.map((v: { expression: string }) => v.expression),
        ['request.dryRun == true'],
      );
      assert.match(
        policy.inputs.spec.matchConditions[0].expression,
        new RegExp(`'${previewersGroup}'`),
      );
      const rules = policy.inputs.spec.matchConstraints.resourceRules[0];
      assert.deepEqual(rules.operations, ['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
      assert.deepEqual(rules.resources, ['*', '*/*']);
      const [binding] = run.ofType(
        'kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding',
      );
      assert.deepEqual(binding.inputs.spec.validationActions, ['Deny']);
      assert.equal(binding.inputs.spec.policyName, policy.inputs.metadata.name);

      // A preview dry-runs every object the program declares: RBAC must let the group send it.
      const [role] = run
        .ofType('kubernetes:rbac.authorization.k8s.io/v1:ClusterRole')
        .filter((r) => r.inputs.metadata.name === 'rag-platform-previewer');
      const writable = new Set<string>(
        role.inputs.rules
          .filter((r: { verbs: string[] }) => r.verbs.includes('patch'))
          .flatMap((r: { apiGroups: string[] }) => r.apiGroups),
      );
      assert.ok(
        !writable.has('admissionregistration.k8s.io'),
        'the policy cannot be changed by it',
      );
      assert.ok(!writable.has('*'));
      const declaredGroups = new Set(
        run.resources
          .filter(
            (r) => r.type.startsWith('kubernetes:') && !r.type.startsWith('kubernetes:helm.sh/'),
          )
          .map((r) => r.type.split(':')[1].split('/')[0])
          .map((g) => (g === 'core' ? '' : g)),
      );
      declaredGroups.delete('admissionregistration.k8s.io');
      for (const g of declaredGroups)
        assert.ok(writable.has(g), `previews cannot dry-run ${g || 'core'} objects`);
      assert.deepEqual([...writable].sort(), [...previewWritableApiGroups].sort());
    });
  }

  it('the dev stack manages no DNS and no registry (its cluster brings its own)', async () => {
    const run = await runStack('dev');
    assert.equal(run.ofType('aws:route53/record:Record').length, 0);
    assert.equal(run.ofType('aws:ecr/repository:Repository').length, 0);
  });

  it('the stack schema refuses a host outside the zone, a closed API endpoint and an open one', () => {
    const base = withReceiverSecrets('staging');
    const problems = (overrides: Record<string, string>) => {
      try {
        parseStackConfig('rag-platform', { ...base, ...overrides });
        return [];
      } catch (e) {
        return (e as { problems: string[] }).problems;
      }
    };
    assert.deepEqual(problems({}), []);
    const app = JSON.parse(base['rag-platform:app']);
    assert.match(
      problems({ 'rag-platform:app': JSON.stringify({ ...app, host: 'rag.other.org' }) }).join(),
      /rag-platform:app\.host: must be a name inside the hosted zone/,
    );
    const cluster = JSON.parse(base['rag-platform:cluster']);
    assert.match(
      problems({
        'rag-platform:cluster': JSON.stringify({ ...cluster, publicAccessCidrs: [] }),
      }).join(),
      /rag-platform:cluster\.publicAccessCidrs: must list the deploy runners/,
    );
    assert.match(
      problems({
        'rag-platform:cluster': JSON.stringify({ ...cluster, publicAccessCidrs: ['0.0.0.0/0'] }),
      }).join(),
      /rag-platform:cluster\.publicAccessCidrs\.0: must not open/,
    );
  });
});
