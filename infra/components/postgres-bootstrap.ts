import { createHash } from 'node:crypto';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { roleBootstrapStatements, staticLoginStatements } from '../../catalog/database-roles';
import {
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../kubernetes/pod-security';
import type { ClusterHandle } from './cluster';
import type { PostgresAdminLogin } from './datastore-connection';

/** psql for the bootstrap: the official image's client, the major the servers run or newer. */
export const postgresClientImage =
  'postgres:17.6-alpine3.22@sha256:ef257d85f76e48da1c64832459b59fcaba1a4dac97bf5d7450c77753542eee94';
/**
 * An unprivileged UID of its own (kube-score wants > 10000; the image's `postgres` is 70): psql
 * needs no home or passwd entry with PGUSER and PGPASSWORD set.
 */
const postgresClientUid = 10001;

export interface PostgresBootstrapArgs {
  cluster: ClusterHandle;
  namespace: pulumi.Input<string>;
  /** Labels that give the Job's pod its egress to Postgres (the service's NetworkPolicy). */
  podLabels: Record<string, string>;
  /** The master (RDS) or superuser (CloudNativePG) login: only this Job ever uses it. */
  admin: PostgresAdminLogin;
  /** Passwords of the static logins the bootstrap creates (catalog/database-roles.ts). */
  passwords: { vaultAdmin: pulumi.Input<string>; exporter: pulumi.Input<string> };
}

/**
 * The one workload that logs in with the database's master user: a Job running the SQL of
 * catalog/database-roles.ts (the group roles, their ownership and default privileges, Vault's
 * login and the exporters' login). Creating roles needs CREATEROLE, which the migrations' role
 * does not have; every statement is idempotent, so a changed script simply runs again. The master
 * password reaches psql from a mounted file, never the pod spec's environment.
 */
export class PostgresBootstrap extends pulumi.ComponentResource {
  readonly job: k8s.batch.v1.Job;

  constructor(name: string, args: PostgresBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:postgres:PostgresBootstrap', name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const { admin } = args;
    const sql = pulumi
      .all([args.passwords.vaultAdmin, args.passwords.exporter])
      .apply(([vaultAdmin, exporter]) =>
        [
          ...roleBootstrapStatements(admin.database),
          ...staticLoginStatements({ vaultAdmin, exporter }),
        ]
          .map((s) => `${s};\n`)
          .join(''),
      );
    const secret = new k8s.core.v1.Secret(
      name,
      {
        metadata: { name, namespace: args.namespace },
        stringData: pulumi.secret({ 'bootstrap.sql': sql, password: admin.password }),
      },
      k8sOpts,
    );
    // The Job is replaced (and the SQL runs again) when the script's text changes, which the
    // passwords inside it are part of: only a digest of it goes in the spec.
    const digest = sql.apply((s) => createHash('sha256').update(s).digest('hex'));
    const labels = { ...args.podLabels, 'app.kubernetes.io/component': 'db-bootstrap' };
    this.job = new k8s.batch.v1.Job(
      name,
      {
        metadata: { namespace: args.namespace, labels },
        spec: {
          backoffLimit: 10,
          activeDeadlineSeconds: 1800,
          template: {
            metadata: { labels, annotations: { 'rag-platform.io/bootstrap-sha256': digest } },
            spec: {
              restartPolicy: 'OnFailure',
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurityContext(postgresClientUid),
              containers: [
                {
                  name: 'bootstrap',
                  image: postgresClientImage,
                  command: [
                    '/bin/sh',
                    '-c',
                    'PGPASSWORD="$(cat /bootstrap/password)" exec psql -v ON_ERROR_STOP=1 -f /bootstrap/bootstrap.sql',
                  ],
                  env: [
                    { name: 'PGHOST', value: admin.host },
                    { name: 'PGPORT', value: String(admin.port) },
                    { name: 'PGDATABASE', value: admin.database },
                    { name: 'PGUSER', value: admin.user },
                    { name: 'PGSSLMODE', value: admin.sslmode },
                    { name: 'HOME', value: '/tmp' },
                  ],
                  resources: {
                    requests: { cpu: '50m', memory: '32Mi', 'ephemeral-storage': '16Mi' },
                    limits: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
                  },
                  securityContext: restrictedContainerSecurityContext,
                  volumeMounts: [
                    { name: 'bootstrap', mountPath: '/bootstrap', readOnly: true },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                },
              ],
              volumes: [
                { name: 'bootstrap', secret: { secretName: secret.metadata.name } },
                { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
              ],
            },
          },
        },
      },
      { ...k8sOpts, deleteBeforeReplace: true, replaceOnChanges: ['spec'] },
    );
    this.registerOutputs({});
  }
}
