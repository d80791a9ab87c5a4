import assert from 'node:assert/strict';
import { interfaceEndpointServices } from '../components/network';
import type { AwsStackConfig } from '../config/stack-config';
import {
  runStack,
  stacks,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

// The AWS details an operator finds missing only when they need them: database OS metrics, flow
// logs, private paths to AWS APIs, logs that expire, least-privilege networking rights, a vector
// store that survives a zone, budgets that let nodes drain. Each checked per stack.

const mockArn = (name: string) => `arn:aws:mock:eu-west-1:111111111111:${name}`;
const roleByArn = (run: StackRun, arn: string) =>
  run.ofType('aws:iam/role:Role').find((r) => mockArn(r.name) === arn);
const attachedPolicies = (run: StackRun, role: CapturedResource) =>
  run
    .ofType('aws:iam/rolePolicyAttachment:RolePolicyAttachment')
    .filter((a) => a.inputs.role === role.name)
    .map((a) => String(a.inputs.policyArn));
const weekly = (w: string) => {
  const [, d1, h1, m1, d2, h2, m2] = /^(\w{3}):(\d\d):(\d\d)-(\w{3}):(\d\d):(\d\d)$/.exec(w)!;
  assert.equal(d1, d2);
  return { start: Number(h1) * 60 + Number(m1), end: Number(h2) * 60 + Number(m2) };
};

describe('infra AWS hygiene', function () {
  this.timeout(60_000);
  const runs = new Map<string, StackRun>();
  before(async () => {
    for (const name of stacks) runs.set(name, await runStack(name));
  });

  for (const name of ['staging', 'production'] as const) {
    describe(name, () => {
      const run = () => runs.get(name)!;

      it('runs RDS with Enhanced Monitoring (its own role) and Performance Insights', () => {
        const dbs = run().ofType('aws:rds/instance:Instance');
        assert.ok(dbs.length >= 2);
        for (const db of dbs) {
          assert.ok(db.inputs.monitoringInterval > 0, `${db.name}: Enhanced Monitoring off`);
          const role = roleByArn(run(), db.inputs.monitoringRoleArn);
          assert.ok(role, `${db.name}: monitoring role not declared`);
          assert.match(role.inputs.assumeRolePolicy, /monitoring\.rds\.amazonaws\.com/);
          assert.ok(
            attachedPolicies(run(), role).some((p) =>
              p.endsWith('AmazonRDSEnhancedMonitoringRole'),
            ),
          );
          assert.equal(db.inputs.performanceInsightsEnabled, true, db.name);
        }
      });

      it('patches replicas outside the primary’s maintenance window', () => {
        const dbs = run().ofType('aws:rds/instance:Instance');
        const primary = weekly(
          dbs.find((d) => !d.inputs.replicateSourceDb)!.inputs.maintenanceWindow,
        );
        for (const replica of dbs.filter((d) => d.inputs.replicateSourceDb)) {
          const w = weekly(replica.inputs.maintenanceWindow);
          assert.ok(
            w.end <= primary.start || w.start >= primary.end,
            `${replica.name} overlaps the primary`,
          );
          assert.ok(w.end - w.start >= 30, 'RDS needs >= 30 minutes');
        }
      });

      it('logs every VPC flow to a group that expires', () => {
        const [vpc] = run().ofType('aws:ec2/vpc:Vpc');
        const flows = run().ofType('aws:ec2/flowLog:FlowLog');
        assert.equal(flows.length, 1);
        assert.equal(flows[0].inputs.vpcId, `${vpc.name}-id`);
        assert.equal(flows[0].inputs.trafficType, 'ALL');
        const group = run()
          .ofType('aws:cloudwatch/logGroup:LogGroup')
          .find((g) => mockArn(g.name) === flows[0].inputs.logDestination);
        assert.ok(group, 'flow logs go to a group the program does not declare');
      });

      it('keeps every log group it owns for a bounded time, control-plane logs included', () => {
        const groups = run().ofType('aws:cloudwatch/logGroup:LogGroup');
        const config = run().config as AwsStackConfig;
        assert.ok(groups.length >= 2);
        for (const g of groups)
          assert.equal(g.inputs.retentionInDays, config.logRetentionDays, g.name);
        const [cluster] = run().ofType('aws:eks/cluster:Cluster');
        const controlPlane = groups.find(
          (g) => g.inputs.name === `/aws/eks/${cluster.inputs.name}/cluster`,
        );
        assert.ok(controlPlane, 'EKS would create its control-plane log group without retention');
        assert.ok(
          cluster.dependencies.includes(`aws:cloudwatch/logGroup:LogGroup::${controlPlane.name}`),
        );
      });

      it('creates the log groups RDS exports to, with retention, before the instances', () => {
        const groups = run().ofType('aws:cloudwatch/logGroup:LogGroup');
        for (const db of run().ofType('aws:rds/instance:Instance')) {
          assert.equal(db.inputs.identifier, db.name, 'the identifier names the log groups');
          for (const log of db.inputs.enabledCloudwatchLogsExports as string[]) {
            const group = groups.find(
              (g) => g.inputs.name === `/aws/rds/instance/${db.inputs.identifier}/${log}`,
            );
            assert.ok(group, `${db.name}: RDS would create ${log} logs without retention`);
            assert.ok(db.dependencies.includes(`aws:cloudwatch/logGroup:LogGroup::${group.name}`));
          }
        }
      });

      it('reaches S3, ECR, STS, Logs and the other AWS APIs it calls through VPC endpoints', () => {
        const endpoints = run().ofType('aws:ec2/vpcEndpoint:VpcEndpoint');
        const byService = new Map(
          endpoints.map((e) => [
            String(e.inputs.serviceName).replace(/^com\.amazonaws\.[a-z0-9-]+\./, ''),
            e,
          ]),
        );
        for (const service of ['ecr.api', 'ecr.dkr', 'sts', 'logs', 'ec2', 'sqs', 'kms'])
          assert.ok(byService.has(service), `no ${service} endpoint`);
        assert.deepEqual(
          [...interfaceEndpointServices].every((s) => byService.has(s)),
          true,
        );
        const s3 = byService.get('s3');
        assert.equal(s3?.inputs.vpcEndpointType, 'Gateway');
        const privateTables = run()
          .ofType('aws:ec2/routeTable:RouteTable')
          .filter((t) => t.inputs.routes.some((r: { natGatewayId?: string }) => r.natGatewayId));
        assert.equal(s3?.inputs.routeTableIds.length, privateTables.length);
        for (const e of endpoints.filter((x) => x.inputs.vpcEndpointType === 'Interface'))
          assert.equal(e.inputs.privateDnsEnabled, true, e.name);
      });

      it('runs the VPC CNI with its own IRSA role, not the node role', () => {
        const cni = run()
          .ofType('aws:eks/addon:Addon')
          .find((a) => a.inputs.addonName === 'vpc-cni')!;
        const role = roleByArn(run(), cni.inputs.serviceAccountRoleArn);
        assert.ok(role, 'vpc-cni has no IRSA role');
        assert.match(role.inputs.assumeRolePolicy, /system:serviceaccount:kube-system:aws-node/);
        assert.ok(attachedPolicies(run(), role).some((p) => p.endsWith('AmazonEKS_CNI_Policy')));
        for (const nodeRole of run()
          .ofType('aws:iam/role:Role')
          .filter((r) => /ec2\.amazonaws\.com/.test(r.inputs.assumeRolePolicy)))
          assert.ok(
            !attachedPolicies(run(), nodeRole).some((p) => p.endsWith('AmazonEKS_CNI_Policy')),
            `${nodeRole.name} still holds the CNI policy`,
          );
      });
    });
  }

  for (const name of stacks) {
    it(`${name}: spreads Qdrant across zones with writes that survive one`, () => {
      const run = runs.get(name)!;
      const release = run
        .ofType('kubernetes:helm.sh/v3:Release')
        .find((r) => r.inputs.chart === 'qdrant')!;
      const values = release.inputs.values;
      const collection = values.config.storage.collection;
      const { replicationFactor, writeConsistencyFactor } = run.config.qdrant;
      assert.equal(collection.replication_factor, replicationFactor);
      assert.equal(collection.write_consistency_factor, writeConsistencyFactor);
      const zone = values.topologySpreadConstraints.find(
        (t: { topologyKey: string }) => t.topologyKey === 'topology.kubernetes.io/zone',
      );
      if (name === 'dev') return;
      assert.equal(zone.whenUnsatisfiable, 'DoNotSchedule');
      if (name === 'production') {
        // An acknowledged write is on two zones, and losing one zone leaves enough to write.
        assert.ok(writeConsistencyFactor >= 2);
        assert.ok(writeConsistencyFactor <= replicationFactor - 1);
      }
    });
  }
});
