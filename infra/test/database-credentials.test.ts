import assert from 'node:assert/strict';
import {
  databaseRoles,
  roleBootstrapStatements,
  staticLoginStatements,
} from '../../catalog/database-roles';
import { exporterImages } from '../components/metrics-exporters';
import {
  runStack,
  stacks,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

// Issue 8, point 9: nothing but the bootstrap uses the database's master login, and no exporter
// gets a password in an environment variable. Under mocks a RandomPassword's result is
// `pw-<name>`, so every password the program generates can be looked for by value.

const workloadKinds = [
  'kubernetes:apps/v1:Deployment',
  'kubernetes:apps/v1:StatefulSet',
  'kubernetes:apps/v1:DaemonSet',
  'kubernetes:batch/v1:Job',
  'kubernetes:batch/v1:CronJob',
];

function podSpec(r: CapturedResource): any {
  return r.type === 'kubernetes:batch/v1:CronJob'
    ? r.inputs.spec.jobTemplate.spec.template.spec
    : r.inputs.spec.template.spec;
}

const envValues = (r: CapturedResource): { name: string; value?: unknown; valueFrom?: any }[] =>
  (podSpec(r).containers ?? []).flatMap((c: any) => c.env ?? []);

function masterPassword(run: StackRun): string {
  const name =
    run.config.environment === 'dev'
      ? 'postgres-superuser'
      : `rag-${run.config.environment}-postgres-master`;
  const password = run
    .ofType('random:index/randomPassword:RandomPassword')
    .find((p) => p.name === name);
  assert.ok(password, `no RandomPassword ${name}`);
  return `pw-${name}`;
}

for (const stackName of stacks) {
  describe(`database credentials (${stackName})`, function () {
    this.timeout(60_000);
    let run: StackRun;
    before(async () => {
      run = await runStack(stackName);
    });

    const bootstrapJob = () =>
      run.ofType('kubernetes:batch/v1:Job').find((j) => j.name === 'postgres-bootstrap');

    it('the bootstrap Job runs the catalog’s role SQL with the master login read from a file', () => {
      const job = bootstrapJob();
      assert.ok(job, 'no postgres-bootstrap Job');
      const secretName = podSpec(job).volumes.find((v: any) => v.name === 'bootstrap').secret
        .secretName;
      const secret = run
        .ofType('kubernetes:core/v1:Secret')
        .find((s) => s.inputs.metadata.name === secretName)!;
      const sql: string = secret.inputs.stringData['bootstrap.sql'];
      for (const statement of roleBootstrapStatements('rag')) assert.ok(sql.includes(statement));
      const exporterPassword = `pw-${stackName === 'dev' ? 'postgres' : `rag-${stackName}-postgres`}-exporter`;
      for (const statement of staticLoginStatements({
        vaultAdmin: 'pw-vault-database-admin',
        exporter: exporterPassword,
      }))
        assert.ok(sql.includes(statement), statement.slice(0, 80));
      assert.equal(secret.inputs.stringData.password, masterPassword(run));
      const env = envValues(job);
      assert.ok(!env.some((e) => /PASS/.test(e.name)), 'no password variable in the pod spec');
      assert.equal(
        env.find((e) => e.name === 'PGUSER')?.value,
        stackName === 'dev' ? 'postgres' : 'rag',
      );
    });

    it('the migrations run only after the roles exist', () => {
      const migrate = run
        .ofType('kubernetes:batch/v1:Job')
        .find((j) => j.inputs.metadata.labels?.['app.kubernetes.io/component'] === 'migrate')!;
      assert.ok(migrate.dependencies.includes('kubernetes:batch/v1:Job::postgres-bootstrap'));
    });

    it('no workload but the bootstrap has the master password in its spec or its Secrets', () => {
      const master = masterPassword(run);
      const bootstrapSecret = 'postgres-bootstrap';
      const secretsWithMaster = run
        .ofType('kubernetes:core/v1:Secret')
        .filter((s) => JSON.stringify(s.inputs).includes(master))
        .map((s) => s.inputs.metadata.name as string);
      for (const w of workloadKinds.flatMap((k) => run.ofType(k))) {
        if (w.name === 'postgres-bootstrap') continue;
        assert.ok(!JSON.stringify(w.inputs).includes(master), `${w.type} ${w.name}`);
        const mounted = [
          ...envValues(w).map((e) => e.valueFrom?.secretKeyRef?.name),
          ...(podSpec(w).volumes ?? []).map((v: any) => v.secret?.secretName),
        ];
        // Vault's settings Secret carries the service's settings until Vault's database secrets
        // engine issues its users: that flow is Vault's (and leaves this list when it lands).
        const leaking = mounted.filter(
          (n) =>
            n && n !== bootstrapSecret && secretsWithMaster.includes(n) && !/settings$/.test(n),
        );
        assert.deepEqual(leaking, [], `${w.type} ${w.name} mounts the master password`);
      }
    });

    it('every postgres-exporter logs in as the exporters’ login, its password from a file only', () => {
      const exporters = run
        .ofType('kubernetes:apps/v1:Deployment')
        .filter((d) => podSpec(d).containers.some((c: any) => c.image === exporterImages.postgres));
      assert.ok(exporters.length >= 2);
      for (const d of exporters) {
        const env = envValues(d);
        assert.ok(!env.some((e) => e.name === 'DATA_SOURCE_NAME' || e.name === 'DATA_SOURCE_PASS'));
        assert.ok(!env.some((e) => e.valueFrom?.secretKeyRef), 'no secret in a variable');
        assert.equal(env.find((e) => e.name === 'DATA_SOURCE_USER')?.value, databaseRoles.exporter);
        const file = env.find((e) => e.name === 'DATA_SOURCE_PASS_FILE')?.value as string;
        const mount = podSpec(d).containers[0].volumeMounts.find((m: any) =>
          file.startsWith(`${m.mountPath}/`),
        );
        assert.ok(mount?.readOnly, 'the password file is mounted read-only');
        const volume = podSpec(d).volumes.find((v: any) => v.name === mount.name);
        const secret = run
          .ofType('kubernetes:core/v1:Secret')
          .find((s) => s.inputs.metadata.name === volume.secret.secretName)!;
        const key = volume.secret.items.find((i: any) => file.endsWith(`/${i.path}`)).key;
        assert.match(secret.inputs.stringData[key], /^pw-.*-exporter$/);
      }
    });
  });
}
