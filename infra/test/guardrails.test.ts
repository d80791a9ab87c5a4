import assert from 'node:assert/strict';
import { containerHardening } from '../policy/policies/container-hardening';
import { encryptionAtRest } from '../policy/policies/encryption-at-rest';
import { noPublicDatastores } from '../policy/policies/no-public-datastores';
import { pinnedImages } from '../policy/policies/pinned-images';
import { statefulDeletionProtection } from '../policy/policies/stateful-deletion-protection';
import { runPolicies } from './support/policy-runner';

// Each guardrail passes a compliant resource and fails a violating one, without the engine.

const rds = {
  storageEncrypted: true,
  kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/x',
  publiclyAccessible: false,
  deletionProtection: true,
  skipFinalSnapshot: false,
  finalSnapshotIdentifier: 'final',
  backupRetentionPeriod: 7,
};
const container = {
  name: 'api',
  image: 'registry/app@sha256:' + 'a'.repeat(64),
  resources: { limits: { cpu: '1', memory: '1Gi' } },
  securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
  readinessProbe: { httpGet: { path: '/readyz', port: 8080 } },
  livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
};
const deployment = (c: Record<string, unknown>) => ({
  spec: { template: { spec: { containers: [c] } } },
});
const check = (
  policy: Parameters<typeof runPolicies>[0][number],
  type: string,
  props: Record<string, unknown>,
  config = {},
) => runPolicies([policy], { type, name: 'r', props }, config).map((v) => v.message);

describe('infra guardrails', () => {
  it('encryption-at-rest', () => {
    assert.deepEqual(check(encryptionAtRest, 'aws:rds/instance:Instance', rds), []);
    assert.equal(
      check(encryptionAtRest, 'aws:rds/instance:Instance', { ...rds, storageEncrypted: false })
        .length,
      1,
    );
    const cache = { atRestEncryptionEnabled: true, transitEncryptionEnabled: true };
    assert.deepEqual(
      check(encryptionAtRest, 'aws:elasticache/replicationGroup:ReplicationGroup', cache),
      [],
    );
    assert.equal(
      check(encryptionAtRest, 'aws:elasticache/replicationGroup:ReplicationGroup', {
        ...cache,
        atRestEncryptionEnabled: false,
      }).length,
      1,
    );
    assert.equal(check(encryptionAtRest, 'aws:eks/cluster:Cluster', {}).length, 1);
    assert.equal(
      check(encryptionAtRest, 'kubernetes:storage.k8s.io/v1:StorageClass', {
        provisioner: 'ebs.csi.aws.com',
        parameters: {},
      }).length,
      1,
    );
  });

  it('no-public-datastores', () => {
    assert.deepEqual(check(noPublicDatastores, 'aws:rds/instance:Instance', rds), []);
    assert.equal(
      check(noPublicDatastores, 'aws:rds/instance:Instance', { ...rds, publiclyAccessible: true })
        .length,
      1,
    );
    const sg = (cidr: string) => ({
      ingress: [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, cidrBlocks: [cidr] }],
    });
    assert.deepEqual(
      check(noPublicDatastores, 'aws:ec2/securityGroup:SecurityGroup', sg('10.0.0.0/16')),
      [],
    );
    assert.equal(
      check(noPublicDatastores, 'aws:ec2/securityGroup:SecurityGroup', sg('0.0.0.0/0')).length,
      1,
    );
    assert.equal(
      check(noPublicDatastores, 'aws:elasticache/replicationGroup:ReplicationGroup', {}).length,
      1,
    );
  });

  it('stateful-deletion-protection applies only when the production config requires it', () => {
    const required = { 'stateful-deletion-protection': { required: true } };
    const unprotected = { ...rds, deletionProtection: false, skipFinalSnapshot: true };
    assert.deepEqual(
      check(statefulDeletionProtection, 'aws:rds/instance:Instance', rds, required),
      [],
    );
    assert.equal(
      check(statefulDeletionProtection, 'aws:rds/instance:Instance', unprotected, required).length,
      2,
    );
    assert.deepEqual(
      check(statefulDeletionProtection, 'aws:rds/instance:Instance', unprotected),
      [],
    );
    assert.equal(
      check(
        statefulDeletionProtection,
        'aws:elasticache/replicationGroup:ReplicationGroup',
        {},
        required,
      ).length,
      1,
    );
  });

  it('container-hardening', () => {
    const type = 'kubernetes:apps/v1:Deployment';
    assert.deepEqual(check(containerHardening, type, deployment(container)), []);
    assert.equal(
      check(containerHardening, type, deployment({ ...container, resources: {} })).length,
      1,
    );
    assert.equal(
      check(containerHardening, type, deployment({ ...container, livenessProbe: undefined }))
        .length,
      1,
    );
    assert.equal(
      check(
        containerHardening,
        type,
        deployment({ ...container, securityContext: { allowPrivilegeEscalation: false } }),
      ).length,
      1,
    );
    // Jobs run to completion: probes are not required, limits still are.
    const job = { ...container, readinessProbe: undefined, livenessProbe: undefined };
    assert.deepEqual(check(containerHardening, 'kubernetes:batch/v1:Job', deployment(job)), []);
  });

  it('pinned-images', () => {
    const type = 'kubernetes:apps/v1:StatefulSet';
    assert.deepEqual(check(pinnedImages, type, deployment(container)), []);
    assert.deepEqual(
      check(pinnedImages, type, deployment({ ...container, image: 'localhost:5000/redis:7.4.6' })),
      [],
    );
    assert.equal(
      check(pinnedImages, type, deployment({ ...container, image: 'redis:latest' })).length,
      1,
    );
    assert.equal(
      check(pinnedImages, type, deployment({ ...container, image: 'localhost:5000/redis' })).length,
      1,
    );
  });
});
