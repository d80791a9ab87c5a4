import assert from 'node:assert/strict';
import { parseStackConfig, StackConfigError } from '../config/stack-config';
import { runStack, stackConfigMap, type StackRun } from './support/stack-under-mocks';

// What a real `pulumi up` on AWS would trip over, checked on the resources the AWS stacks declare
// under mocks: maintenance landing outside the muted window, a CMK the control plane cannot use,
// NetworkPolicies nobody enforces, RDS version drift, Jobs that vanish from under the state.

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};
/** `ddd:hh:mm-ddd:hh:mm` -> [day, start, end] in minutes of that day. */
const weekly = (window: string) => {
  const [, d1, s, d2, e] = /^(\w{3}):(\d\d:\d\d)-(\w{3}):(\d\d:\d\d)$/.exec(window)!;
  assert.equal(d1, d2, `${window} spans two days`);
  return { day: d1, start: minutes(s), end: minutes(e) };
};
const daily = (window: string) => {
  const [s, e] = window.split('-');
  return { start: minutes(s), end: minutes(e) };
};

for (const stackName of ['staging', 'production'] as const) {
  describe(`infra AWS readiness (${stackName})`, function () {
    this.timeout(60_000);
    let run: StackRun;
    before(async () => {
      run = await runStack(stackName);
    });

    it("schedules RDS and ElastiCache maintenance inside Alertmanager's muted weekly window, apart", () => {
      const interval = (
        run.artifacts.alertmanagerConfig.time_intervals as {
          name: string;
          time_intervals: {
            weekdays: string[];
            times: { start_time: string; end_time: string }[];
            location: string;
          }[];
        }[]
      ).find((t) => t.name === 'weekly-maintenance')!.time_intervals[0];
      assert.equal(interval.location, 'UTC');
      const muted = {
        day: interval.weekdays[0].slice(0, 3),
        start: minutes(interval.times[0].start_time),
        end: minutes(interval.times[0].end_time),
      };
      const rds = run.ofType('aws:rds/instance:Instance');
      const cache = run.ofType('aws:elasticache/replicationGroup:ReplicationGroup');
      assert.ok(rds.length >= 2 && cache.length === 1);
      const windows = [...rds, ...cache].map((r) => ({
        name: r.name,
        ...weekly(r.inputs.maintenanceWindow),
      }));
      for (const w of windows) {
        assert.equal(w.day, muted.day, w.name);
        assert.ok(w.start >= muted.start && w.end <= muted.end, `${w.name} outside the window`);
      }
      const db = weekly(rds[0].inputs.maintenanceWindow);
      const redis = weekly(cache[0].inputs.maintenanceWindow);
      assert.ok(db.end <= redis.start || redis.end <= db.start, 'database and cache at once');
      assert.ok(redis.end - redis.start >= 60, 'ElastiCache needs >= 60 minutes');
      // AWS rejects backup windows overlapping the maintenance window.
      const primary = rds.find((r) => !r.inputs.replicateSourceDb)!.inputs;
      const backup = daily(primary.backupWindow);
      assert.ok(backup.end <= db.start || backup.start >= db.end);
      const snapshot = daily(cache[0].inputs.snapshotWindow);
      assert.ok(snapshot.end <= redis.start || snapshot.start >= redis.end);
    });

    it('lets the EKS control plane use the CMK that encrypts Secrets', () => {
      const cluster = run.ofType('aws:eks/cluster:Cluster')[0].inputs;
      const keyArn = cluster.encryptionConfig.provider.keyArn;
      const role = run
        .ofType('aws:iam/role:Role')
        .find((r) => cluster.roleArn === `arn:aws:mock:eu-west-1:111111111111:${r.name}`)!;
      const grants = run
        .ofType('aws:iam/rolePolicy:RolePolicy')
        .filter((p) => p.inputs.role === `${role.name}-id`)
        .flatMap((p) => JSON.parse(p.inputs.policy).Statement)
        .filter((s: { Resource: string }) => s.Resource === keyArn)
        .flatMap((s: { Action: string[] }) => s.Action);
      for (const action of ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey', 'kms:ListGrants'])
        assert.ok(grants.includes(action), action);
    });

    it('enforces the NetworkPolicies it declares (VPC CNI network policy agent on)', () => {
      assert.ok(run.ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy').length > 0);
      const cni = run
        .ofType('aws:eks/addon:Addon')
        .find((a) => a.inputs.addonName === 'vpc-cni')?.inputs;
      assert.ok(cni, 'vpc-cni addon');
      assert.equal(JSON.parse(cni.configurationValues).enableNetworkPolicy, 'true');
    });

    it('keeps RDS on a patchable track: a major version, minor upgrades applied by AWS', () => {
      assert.ok(run.config.environment !== 'dev');
      const primary = run
        .ofType('aws:rds/instance:Instance')
        .find((d) => !d.inputs.replicateSourceDb)!;
      assert.match(primary.inputs.engineVersion, /^\d+$/);
      for (const db of run.ofType('aws:rds/instance:Instance'))
        assert.equal(db.inputs.autoMinorVersionUpgrade, true, db.name);
    });

    it('declares no Job that deletes itself (a TTL-deleted Job is drift and re-runs)', () => {
      const jobs = run.ofType('kubernetes:batch/v1:Job');
      assert.ok(jobs.length >= 2);
      for (const j of jobs) assert.equal(j.inputs.spec.ttlSecondsAfterFinished, undefined, j.name);
    });
  });
}

describe('infra AWS readiness (config)', function () {
  this.timeout(60_000);
  it('refuses a pinned RDS minor version (it would never get security patches)', () => {
    const postgres = {
      ...JSON.parse(stackConfigMap('staging')['rag-platform:postgres']),
      engineVersion: '16.4',
    };
    assert.throws(
      () =>
        parseStackConfig('rag-platform', {
          ...stackConfigMap('staging'),
          'rag-platform:postgres': JSON.stringify(postgres),
        }),
      /rag-platform:postgres\.engineVersion: must be a major version/,
    );
  });

  it('refuses an AWS stack without an admin role (the deployer could not reach its cluster)', () => {
    const cluster = {
      ...JSON.parse(stackConfigMap('production')['rag-platform:cluster']),
      adminRoleArns: [],
    };
    const raw = {
      ...stackConfigMap('production'),
      'rag-platform:cluster': JSON.stringify(cluster),
    };
    assert.throws(
      () => parseStackConfig('rag-platform', raw),
      (err: unknown) =>
        err instanceof StackConfigError &&
        err.problems.some((p) => p.startsWith('rag-platform:cluster.adminRoleArns:')),
    );
  });
});
