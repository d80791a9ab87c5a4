import assert from 'node:assert/strict';
import type { AwsStackConfig } from '../config/stack-config';
import { parseStackConfig } from '../config/stack-config';
import { runStack, stackConfigMap, type StackRun } from './support/stack-under-mocks';

// Every version the AWS stacks pin with a vendor support date is inside it, checked against
// today's date: this suite starts failing on the day a pinned version leaves standard support,
// before AWS upgrades the cluster (STANDARD policy) or the database leaves its patch track.

/** The pinned versions of a stack that carry a support end date, and whether each has passed. */
export function expiredVersions(config: AwsStackConfig, today: Date): string[] {
  const pinned = [
    {
      what: `EKS ${config.cluster.version}`,
      ends: config.cluster.standardSupportEnds,
    },
    {
      what: `RDS PostgreSQL ${config.postgres.engineVersion}`,
      ends: config.postgres.majorVersionSupportEnds,
    },
  ];
  return pinned
    .filter((p) => new Date(`${p.ends}T23:59:59Z`).getTime() < today.getTime())
    .map((p) => `${p.what}: standard support ended ${p.ends}`);
}

for (const stackName of ['staging', 'production'] as const) {
  describe(`infra supported versions (${stackName})`, function () {
    this.timeout(60_000);
    let run: StackRun;
    before(async () => {
      run = await runStack(stackName);
    });
    const config = () => run.config as AwsStackConfig;

    it('pins no version past its standard support date (today)', () => {
      assert.deepEqual(expiredVersions(config(), new Date()), []);
    });

    it('fails once a pinned version passes its date (the check is live)', () => {
      const dayAfter = new Date(`${config().cluster.standardSupportEnds}T00:00:00Z`);
      dayAfter.setUTCDate(dayAfter.getUTCDate() + 1);
      assert.deepEqual(expiredVersions(config(), dayAfter), [
        `EKS ${config().cluster.version}: standard support ended ${config().cluster.standardSupportEnds}`,
      ]);
    });

    it('runs EKS under the STANDARD upgrade policy with pinned add-on versions', () => {
      const [cluster] = run.ofType('aws:eks/cluster:Cluster');
      assert.equal(cluster.inputs.version, config().cluster.version);
      assert.deepEqual(cluster.inputs.upgradePolicy, { supportType: 'STANDARD' });
      const addons = run.ofType('aws:eks/addon:Addon');
      assert.ok(addons.length >= 2);
      for (const addon of addons)
        assert.match(
          String(addon.inputs.addonVersion),
          /^v\d+\.\d+\.\d+-eksbuild\.\d+$/,
          addon.name,
        );
    });

    it('pins every Helm chart to an exact version', () => {
      for (const release of run.ofType('kubernetes:helm.sh/v3:Release'))
        // cert-manager's chart versions carry the release tag's `v`.
        assert.match(String(release.inputs.version), /^v?\d+\.\d+\.\d+$/, release.name);
    });
  });
}

describe('infra supported versions (config)', () => {
  it('refuses a support date that is not a date', () => {
    const cluster = {
      ...JSON.parse(stackConfigMap('staging')['rag-platform:cluster']),
      standardSupportEnds: 'mid-2027',
    };
    assert.throws(
      () =>
        parseStackConfig('rag-platform', {
          ...stackConfigMap('staging'),
          'rag-platform:cluster': JSON.stringify(cluster),
        }),
      /rag-platform:cluster\.standardSupportEnds: must be a date/,
    );
  });
});
