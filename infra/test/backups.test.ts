import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { statefulComponents } from '../backups/stateful-components';
import { backupJobs, backupsNamespace, pvcNamespaceTag } from '../components/backups';
import { weeklyMaintenance } from '../../catalog/alerting/maintenance-windows';
import { rdsBackupWindow } from '../config/maintenance-windows';
import { parseStackConfig, type AwsStackConfig } from '../config/stack-config';
import {
  repoRoot,
  resourceKey,
  runStack,
  stackConfigMap,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

// Every stateful resource an AWS stack declares has a backup path and a documented restore: the
// map in infra/backups/stateful-components.ts is checked against the resources the program
// declares under mocks and against the procedures in runbooks/.

const awsStacks = ['staging', 'production'] as const;
const release = 'kubernetes:helm.sh/v3:Release';

/** The name a component is matched by: a Helm release's own name, else the resource's. */
const nameOf = (r: CapturedResource) =>
  r.type === release ? String(r.inputs.name) : String(r.name);

/** What holds data the program does not re-create from this repository. */
function statefulResources(run: StackRun): CapturedResource[] {
  return run.resources.filter((r) => {
    switch (r.type) {
      case 'aws:rds/instance:Instance':
        return !r.inputs.replicateSourceDb;
      case 'aws:elasticache/replicationGroup:ReplicationGroup':
      case 'kubernetes:apps/v1:StatefulSet':
      case 'kubernetes:core/v1:PersistentVolumeClaim':
        return true;
      case release:
        // A chart that asks for a storage class asks for volumes.
        return /"storageClass(Name)?":/.test(JSON.stringify(r.inputs.values ?? {}));
      default:
        return false;
    }
  });
}

const arnEndsWith = (arn: unknown, name: string) => String(arn).endsWith(`:${name}`);
const one = (run: StackRun, type: string, name: string) => {
  const found = run.ofType(type).filter((r) => r.name === name);
  assert.equal(found.length, 1, `${type} ${name}`);
  return found[0];
};

function mitigationOf(procedure: string): string {
  const text = readFileSync(path.join(repoRoot, 'runbooks/procedures', `${procedure}.md`), 'utf8');
  return text.split('## Mitigation')[1]?.split(/^## /m)[0] ?? '';
}

describe('infra backups', function () {
  this.timeout(120_000);
  const runs = new Map<string, StackRun>();
  before(async () => {
    for (const name of awsStacks) runs.set(name, await runStack(name));
  });

  it('finds the stateful resources it checks (the detection is live)', () => {
    const run = runs.get('production')!;
    const found = statefulResources(run).map(nameOf).sort();
    for (const expected of ['qdrant', 'vault', 'kube-prometheus-stack', 'loki', 'tempo'])
      assert.ok(found.includes(expected), `${expected} among ${found.join(', ')}`);
    assert.ok(found.some((n) => /postgres$/.test(n)));
    // The replicas are rebuilt from the primary: not stateful in their own right.
    assert.ok(!found.some((n) => /replica/.test(n)));
  });

  it('needs backups settings on AWS stacks and keeps copies at least as long as originals', () => {
    const raw = stackConfigMap('staging');
    const without = { ...raw };
    delete without['rag-platform:backups'];
    assert.throws(() => parseStackConfig('rag-platform', without), /backups: /);
    const backups = JSON.parse(raw['rag-platform:backups']);
    assert.throws(
      () =>
        parseStackConfig('rag-platform', {
          ...raw,
          'rag-platform:backups': JSON.stringify({ ...backups, copyRetentionDays: 3 }),
        }),
      /backups\.copyRetentionDays: must be >= backups\.retentionDays/,
    );
  });

  for (const stack of awsStacks) {
    describe(stack, () => {
      const run = () => runs.get(stack)!;
      const config = () => run().config as AwsStackConfig;
      const region = () => stackConfigMap(stack)['aws:region'];
      const copyProvider = () => {
        const providers = run()
          .ofType('pulumi:providers:aws')
          .filter((p) => p.inputs.region === config().backups.copyRegion);
        assert.equal(providers.length, 1, 'one provider for the copy region');
        assert.notEqual(config().backups.copyRegion, region(), 'copies leave the region');
        return resourceKey(providers[0]);
      };
      const vaults = () => {
        const all = run().ofType('aws:backup/vault:Vault');
        const copy = all.filter((v) => v.provider === copyProvider());
        const local = all.filter((v) => v.provider === undefined);
        assert.equal(copy.length, 1);
        assert.equal(local.length, 1);
        return { local: local[0], copy: copy[0] };
      };
      const plan = () => {
        const plans = run().ofType('aws:backup/plan:Plan');
        assert.equal(plans.length, 1);
        return plans[0];
      };
      const policyOf = (sa: string) =>
        JSON.parse(one(run(), 'aws:iam/rolePolicy:RolePolicy', `${sa}`).inputs.policy);

      it('maps every stateful resource to one component, and every component to a resource', () => {
        const unmapped: string[] = [];
        const matched = new Set<string>();
        for (const r of statefulResources(run())) {
          const hits = statefulComponents.filter(
            (c) => c.resource.type === r.type && c.resource.name.test(nameOf(r)),
          );
          if (hits.length !== 1) unmapped.push(`${r.type} ${nameOf(r)}: ${hits.length} entries`);
          hits.forEach((c) => matched.add(c.id));
        }
        assert.deepEqual(unmapped, []);
        assert.deepEqual(
          statefulComponents.map((c) => c.id).filter((id) => !matched.has(id)),
          [],
          'entries matching nothing the stack declares',
        );
      });

      it('backs every component up the way the map says', () => {
        const problems: string[] = [];
        const { local, copy } = vaults();
        const rule = plan().inputs.rules[0];
        for (const c of statefulComponents) {
          const r = statefulResources(run()).find(
            (x) => x.type === c.resource.type && c.resource.name.test(nameOf(x)),
          )!;
          const check = (ok: boolean, what: string) => {
            if (!ok) problems.push(`${c.id}: ${what}`);
          };
          for (const m of c.mechanisms) {
            switch (m) {
              case 'rds-automated-backups':
                check(r.inputs.backupRetentionPeriod >= 7, 'keeps PITR >= 7 days');
                check(r.inputs.deleteAutomatedBackups === false, 'keeps backups after delete');
                break;
              case 'rds-cross-region-replication': {
                const replication = run()
                  .ofType(
                    'aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication',
                  )
                  .filter((x) => arnEndsWith(x.inputs.sourceDbInstanceArn, r.name));
                check(replication.length === 1, 'replicates its automated backups');
                check(
                  replication[0]?.provider === copyProvider(),
                  'replicates them to the copy region',
                );
                check(
                  replication[0]?.inputs.retentionPeriod === r.inputs.backupRetentionPeriod,
                  'keeps the replica as long as the original',
                );
                break;
              }
              case 'aws-backup': {
                const selections = run()
                  .ofType('aws:backup/selection:Selection')
                  .filter((s) =>
                    c.volumeNamespace
                      ? s.inputs.resources?.includes('arn:aws:ec2:*:*:volume/*') &&
                        s.inputs.conditions?.[0]?.stringEquals?.some(
                          (e: { key: string; value: string }) =>
                            e.key === `aws:ResourceTag/${pvcNamespaceTag}` &&
                            e.value === c.volumeNamespace,
                        )
                      : s.inputs.resources?.some((a: string) => arnEndsWith(a, r.name)),
                  );
                check(selections.length === 1, 'is selected by the AWS Backup plan');
                check(
                  selections[0]?.inputs.planId === `${plan().name}-id`,
                  'is selected into the plan',
                );
                if (c.volumeNamespace)
                  check(r.inputs.namespace === c.volumeNamespace, 'has its volumes there');
                break;
              }
              case 'pre-migration-snapshot': {
                const job = one(
                  run(),
                  'kubernetes:batch/v1:Job',
                  `rag-${stack}-backups-${backupJobs.preMigration.job}`,
                );
                const env = job.inputs.spec.template.spec.containers[0].env;
                check(
                  env.some(
                    (e: { name: string; value: string }) =>
                      e.name === 'DB_INSTANCE' && e.value === r.name,
                  ),
                  'is the instance the Job snapshots',
                );
                const migrate = run()
                  .ofType('kubernetes:batch/v1:Job')
                  .filter(
                    (j) => j.inputs.metadata.labels?.['app.kubernetes.io/component'] === 'migrate',
                  );
                check(
                  migrate.length === 1 && migrate[0].dependencies.includes(resourceKey(job)),
                  'is snapshotted before the migration Job runs',
                );
                const policy = policyOf(
                  `rag-${stack}-backups-${backupJobs.preMigration.serviceAccount}`,
                );
                check(
                  policy.Statement.some(
                    (s: { Action: string[]; Resource: string[] }) =>
                      s.Action.includes('rds:CreateDBSnapshot') &&
                      s.Resource.some((a) => arnEndsWith(a, r.name)),
                  ),
                  'may be snapshotted by the Job’s role',
                );
                break;
              }
              case 'snapshots-to-s3': {
                const cron = one(
                  run(),
                  'kubernetes:batch/v1:CronJob',
                  `rag-${stack}-backups-${c.cronJob}`,
                );
                const pod = cron.inputs.spec.jobTemplate.spec.template.spec;
                const sa = one(
                  run(),
                  'kubernetes:core/v1:ServiceAccount',
                  `rag-${stack}-backups-${pod.serviceAccountName}`,
                );
                const roleName = `rag-${stack}-backups-${pod.serviceAccountName}`;
                check(
                  arnEndsWith(
                    sa.inputs.metadata.annotations['eks.amazonaws.com/role-arn'],
                    roleName,
                  ),
                  'runs with its IRSA role',
                );
                const trust = one(run(), 'aws:iam/role:Role', roleName).inputs.assumeRolePolicy;
                check(
                  trust.includes(
                    `system:serviceaccount:${backupsNamespace}:${pod.serviceAccountName}`,
                  ),
                  'role trusts only that ServiceAccount',
                );
                const writes = policyOf(roleName).Statement.find((s: { Action: string[] }) =>
                  s.Action.includes('s3:PutObject'),
                );
                check(
                  /\/(qdrant|vault)\/\*$/.test(writes?.Resource ?? ''),
                  'role writes its own prefix of the bucket only',
                );
                check(cron.inputs.spec.schedule !== undefined, 'runs on a schedule');
                break;
              }
              case 'elasticache-snapshots':
                check(r.inputs.snapshotRetentionLimit >= 1, 'keeps daily snapshots');
                break;
              case 'none':
                check((c.reason ?? '').length > 40, 'says why it has no backup');
                break;
            }
          }
        }
        // One plan: daily recovery points kept per the stack config, copied to the other region.
        assert.equal(rule.targetVaultName, local.inputs.name);
        assert.equal(rule.lifecycle.deleteAfter, config().backups.retentionDays);
        assert.deepEqual(rule.copyActions.length, 1);
        assert.ok(arnEndsWith(rule.copyActions[0].destinationVaultArn, copy.name));
        assert.equal(rule.copyActions[0].lifecycle.deleteAfter, config().backups.copyRetentionDays);
        assert.deepEqual(problems, []);
      });

      it('documents a restore for every component in its procedure', () => {
        const problems: string[] = [];
        const procedures = readFileSync(path.join(repoRoot, 'runbooks/procedures.ts'), 'utf8');
        for (const c of statefulComponents) {
          const file = path.join(repoRoot, 'runbooks/procedures', `${c.restore.procedure}.md`);
          if (!existsSync(file) || !procedures.includes(`id: '${c.restore.procedure}'`)) {
            problems.push(`${c.id}: no procedure ${c.restore.procedure}`);
            continue;
          }
          const text = readFileSync(file, 'utf8');
          const mitigation = mitigationOf(c.restore.procedure);
          if (c.restore.section !== 'Mitigation' && !mitigation.includes(`**${c.restore.section}`))
            problems.push(
              `${c.id}: ${c.restore.procedure} Mitigation has no **${c.restore.section}**`,
            );
          const mentions: Record<string, string[]> = {
            'aws-backup': ['start-restore-job', 'backups-vault'],
            'rds-cross-region-replication': ['--source-db-instance-automated-backups-arn'],
            'pre-migration-snapshot': ['pre-migrate', 'restore-db-instance-from-db-snapshot'],
            'snapshots-to-s3': [`cronjob/${c.cronJob}`, 'BACKUP_BUCKET'],
          };
          for (const m of c.mechanisms)
            for (const phrase of mentions[m] ?? [])
              if (!text.includes(phrase))
                problems.push(`${c.id}: ${c.restore.procedure}.md never mentions ${phrase} (${m})`);
        }
        assert.deepEqual(problems, []);
      });

      it('protects the backups and the keys that decrypt them', () => {
        const production = stack === 'production';
        const { local, copy } = vaults();
        const keys = run().ofType('aws:kms/key:Key');
        const keyOf = (arn: string) => keys.find((k) => arnEndsWith(arn, k.name))!;
        const decrypting = [
          keyOf(local.inputs.kmsKeyArn),
          keyOf(copy.inputs.kmsKeyArn),
          // RDS recovery points keep the instance's key; raft snapshots need the unseal key.
          keyOf(
            run()
              .ofType('aws:rds/instance:Instance')
              .find((r) => !r.inputs.replicateSourceDb)!.inputs.kmsKeyId,
          ),
          keys.find((k) => k.name === 'vault-unseal')!,
        ];
        for (const k of decrypting) {
          assert.equal(k.retainOnDelete, true, `${k.name} outlives the stack`);
          assert.equal(k.protect, production, `${k.name} protected in production`);
          assert.ok(k.inputs.deletionWindowInDays >= 30, `${k.name} deletion window`);
          assert.equal(k.inputs.enableKeyRotation, true);
        }
        assert.equal(keyOf(copy.inputs.kmsKeyArn).provider, copyProvider());
        for (const v of [local, copy]) {
          assert.equal(v.retainOnDelete, true);
          assert.equal(v.protect, production);
          assert.equal(v.inputs.forceDestroy, false);
          const policy = run()
            .ofType('aws:backup/vaultPolicy:VaultPolicy')
            .find((p) => p.inputs.backupVaultName === v.inputs.name)!;
          const deny = JSON.parse(policy.inputs.policy).Statement.find(
            (s: { Effect: string }) => s.Effect === 'Deny',
          );
          assert.equal(deny.Principal, '*');
          assert.ok(deny.Action.includes('backup:DeleteRecoveryPoint'));
          const lock = run()
            .ofType('aws:backup/vaultLockConfiguration:VaultLockConfiguration')
            .find((l) => l.inputs.backupVaultName === v.inputs.name)!;
          assert.equal(lock.inputs.changeableForDays !== undefined, production, 'compliance mode');
          assert.ok(lock.inputs.maxRetentionDays >= config().backups.retentionDays);
        }
        const lockedBuckets = run().ofType(
          'aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration',
        );
        assert.equal(lockedBuckets.length, 1);
        assert.equal(lockedBuckets[0].inputs.rule.defaultRetention.mode, 'GOVERNANCE');
        const snapshotBucket = one(run(), 'aws:s3/bucket:Bucket', `rag-${stack}-backups-snapshots`);
        assert.equal(snapshotBucket.inputs.objectLockEnabled, true);
        assert.equal(snapshotBucket.retainOnDelete, production);
        const lifecycle = one(
          run(),
          'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
          `rag-${stack}-backups-snapshots`,
        );
        assert.equal(lifecycle.inputs.rules[0].expiration.days, config().backups.retentionDays);
      });

      it('starts AWS Backup outside the RDS backup window and the weekly maintenance window', () => {
        const minutes = (hhmm: string) => {
          const [h, m] = hhmm.split(':').map(Number);
          return h * 60 + m;
        };
        const [minute, hour] = /^cron\((\S+) (\S+) /.exec(config().backups.schedule)!.slice(1);
        assert.match(`${minute}${hour}`, /^\d+$/, 'one fixed time a day');
        const at = Number(hour) * 60 + Number(minute);
        const busy = [
          rdsBackupWindow.split('-').map(minutes),
          [minutes(weeklyMaintenance.start), minutes(weeklyMaintenance.end)],
        ];
        // The plan's start window (minutes) is when the job may start: none of it may overlap.
        const startWindow = plan().inputs.rules[0].startWindow as number;
        for (const [from, to] of busy)
          assert.ok(
            at >= to || at + startWindow <= from,
            `${config().backups.schedule} overlaps ${from}-${to}`,
          );
      });

      it('gives the Vault snapshot CronJob a role that can read a raft snapshot and nothing else', () => {
        const policy = run()
          .ofType('vault:index/policy:Policy')
          .find((p) => p.inputs.name === 'raft-snapshot')!.inputs.policy;
        assert.equal(policy, 'path "sys/storage/raft/snapshot" {\n  capabilities = ["read"]\n}\n');
        const role = run()
          .ofType('vault:kubernetes/authBackendRole:AuthBackendRole')
          .find((r) => r.inputs.roleName === 'raft-snapshot')!.inputs;
        assert.deepEqual(role.boundServiceAccountNames, [backupJobs.vault.serviceAccount]);
        assert.deepEqual(role.boundServiceAccountNamespaces, [backupsNamespace]);
        assert.deepEqual(role.tokenPolicies, ['raft-snapshot']);
        const cron = one(
          run(),
          'kubernetes:batch/v1:CronJob',
          `rag-${stack}-backups-${backupJobs.vault.cronJob}`,
        );
        const pod = cron.inputs.spec.jobTemplate.spec.template.spec;
        assert.equal(pod.serviceAccountName, backupJobs.vault.serviceAccount);
        const scripts = run()
          .ofType('kubernetes:core/v1:ConfigMap')
          .find((c) => c.inputs.metadata.name === 'backup-scripts')!.inputs.data;
        assert.match(scripts['vault-snapshot.sh'], /vault operator raft snapshot save "\$FILE"/);
        assert.match(scripts['vault-snapshot.sh'], /auth\/kubernetes\/login role="\$VAULT_ROLE"/);
        const snapshotEnv = (n: string) =>
          pod.initContainers[0].env.find((e: { name: string }) => e.name === n)?.value;
        assert.equal(snapshotEnv('VAULT_ROLE'), 'raft-snapshot');
        // Over TLS, verified: the CA cert cert-manager issues into this namespace, mounted.
        assert.match(snapshotEnv('VAULT_ADDR'), /^https:\/\/vault-active\.vault\.svc:8200$/);
        assert.equal(snapshotEnv('VAULT_CACERT'), '/vault-ca/ca.crt');
        assert.equal(snapshotEnv('VAULT_TLS_SERVER_NAME'), 'vault-active.vault.svc');
        assert.ok(
          pod.initContainers[0].volumeMounts.some(
            (m: { name: string; mountPath: string }) =>
              m.name === 'vault-ca' && m.mountPath === '/vault-ca',
          ),
        );
        const caVolume = pod.volumes.find((v: { name: string }) => v.name === 'vault-ca');
        assert.equal(caVolume.secret.secretName, 'vault-ca');
        const trust = run()
          .ofType('kubernetes:cert-manager.io/v1:Certificate')
          .find((c) => c.inputs.metadata.namespace === backupsNamespace)!.inputs;
        assert.equal(trust.spec.secretName, 'vault-ca');
        assert.equal(trust.spec.issuerRef.name, 'platform-internal-ca');
        // Qdrant: a snapshot per collection per node, streamed out and then deleted from the node.
        for (const call of [
          '"$base/collections"',
          '-X POST -H "$auth" "$base/collections/$collection/snapshots?wait=true"',
          '"$base/collections/$collection/snapshots/$name"',
          '-X DELETE',
          'aws s3 cp -',
        ])
          assert.ok(scripts['qdrant-snapshot.sh'].includes(call), call);
        const qdrant = one(
          run(),
          'kubernetes:batch/v1:CronJob',
          `rag-${stack}-backups-${backupJobs.qdrant.cronJob}`,
        );
        const nodes = qdrant.inputs.spec.jobTemplate.spec.template.spec.containers[0].env.find(
          (e: { name: string }) => e.name === 'QDRANT_NODES',
        ).value;
        assert.equal(nodes.split(' ').length, config().qdrant.replicas, 'every node');
      });
    });
  }

  it('ships backup scripts shellcheck finds nothing in', async () => {
    const run = runs.get('production')!;
    const maps = run
      .ofType('kubernetes:core/v1:ConfigMap')
      .filter((c) => c.inputs.metadata.name === 'backup-scripts');
    const scripts = maps.flatMap((c) => Object.entries(c.inputs.data as Record<string, string>));
    assert.equal(scripts.length, 4);
    for (const [name, text] of scripts) {
      // POSIX sh: the images' /bin/sh (the Vault image's is busybox).
      const result = spawnSync('shellcheck', ['--shell=sh', '--severity=warning', '-'], {
        input: text,
        encoding: 'utf8',
      });
      assert.equal(result.error, undefined, 'shellcheck runs (scripts/tools/debian-packages.sh)');
      assert.equal(result.status, 0, `${name}:\n${result.stdout}`);
    }
    // The check is live: an unquoted expansion and a bashism are caught.
    const bad = spawnSync('shellcheck', ['--shell=sh', '--severity=warning', '-'], {
      input: '#!/bin/sh\nfiles=(a b)\necho ${files[0]}\n',
      encoding: 'utf8',
    });
    assert.notEqual(bad.status, 0);
  });

  it('runs no backup workloads on dev (its cluster is throw-away)', async () => {
    const dev = await runStack('dev');
    assert.equal(dev.ofType('aws:backup/plan:Plan').length, 0);
    assert.ok(!dev.resources.some((r) => r.inputs.metadata?.namespace === backupsNamespace));
  });
});
