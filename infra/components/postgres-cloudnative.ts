import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { DevStackConfig } from '../config/stack-config';
import { afterMonitoringCrds, type MonitoringCrds } from '../observability/monitoring-crds';
import type { ClusterHandle } from './cluster';
import type { PostgresConnection, PostgresExporterTarget } from './datastore-connection';
import { withPinnedImages } from '../charts/chart-images';

export interface CloudNativePostgresArgs {
  config: DevStackConfig['postgres'];
  cluster: ClusterHandle;
  namespace: pulumi.Input<string>;
  /** The Cluster's `enablePodMonitor` makes the operator create a PodMonitor. */
  monitoring: MonitoringCrds;
}

const database = 'rag';
const username = 'rag';
const clusterName = 'rag-pg';
/** The label the operator puts on every instance pod of the Cluster. */
export const cnpgInstancePods = { 'cnpg.io/cluster': clusterName };
export const cnpgOperatorNamespace = 'cnpg-system';

/**
 * In-cluster Postgres for the dev stack: the CloudNativePG operator and a Cluster of one primary
 * plus streaming replicas, read through the operator's `-rw` and `-ro` services.
 */
export class CloudNativePostgres extends pulumi.ComponentResource implements PostgresConnection {
  readonly url: pulumi.Output<string>;
  readonly replicaUrls: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly replicaEndpoints: pulumi.Output<string[]>;
  readonly exporterTargets: readonly PostgresExporterTarget[];
  readonly admin: PostgresConnection['admin'];
  readonly exporterPassword: pulumi.Output<string>;
  readonly dynamicUsers: PostgresConnection['dynamicUsers'];
  readonly port = 5432;
  readonly egressPeers;
  /** The operator's release, which creates its namespace. */
  readonly operatorInstalled: k8s.helm.v3.Release;

  constructor(name: string, args: CloudNativePostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:postgres:CloudNativePostgres', name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const { config, namespace } = args;

    const operator = new k8s.helm.v3.Release(
      `${name}-operator`,
      {
        chart: 'cloudnative-pg',
        version: config.operatorChartVersion,
        repositoryOpts: { repo: 'https://cloudnative-pg.github.io/charts' },
        namespace: cnpgOperatorNamespace,
        createNamespace: true,
        atomic: true,
        values: withPinnedImages('cloudnative-pg', config.operatorChartVersion, {}),
      },
      k8sOpts,
    );
    this.operatorInstalled = operator;

    const password = new random.RandomPassword(
      `${name}-app`,
      { length: 32, special: false },
      { parent: this },
    );
    const credentials = new k8s.core.v1.Secret(
      `${name}-app`,
      {
        metadata: { name: `${clusterName}-app-credentials`, namespace },
        type: 'kubernetes.io/basic-auth',
        stringData: { username, password: password.result },
      },
      k8sOpts,
    );

    const superuserPassword = new random.RandomPassword(
      `${name}-superuser`,
      { length: 32, special: false },
      { parent: this },
    );
    const superuser = new k8s.core.v1.Secret(
      `${name}-superuser`,
      {
        metadata: { name: `${clusterName}-superuser-credentials`, namespace },
        type: 'kubernetes.io/basic-auth',
        stringData: { username: 'postgres', password: superuserPassword.result },
      },
      k8sOpts,
    );
    new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: 'postgresql.cnpg.io/v1',
        kind: 'Cluster',
        metadata: { name: clusterName, namespace },
        spec: {
          instances: config.instances,
          storage: { size: `${config.storageGb}Gi`, storageClass: args.cluster.storageClassName },
          bootstrap: {
            initdb: { database, owner: username, secret: { name: credentials.metadata.name } },
          },
          postgresql: { parameters: { log_min_duration_statement: '250', max_connections: '200' } },
          resources: {
            requests: { cpu: '100m', memory: '256Mi' },
            limits: { cpu: '1', memory: '512Mi' },
          },
          monitoring: { enablePodMonitor: true },
          // The superuser is the bootstrap Job's (roles need CREATEROLE, which the owner lacks).
          enableSuperuserAccess: true,
          superuserSecret: { name: superuser.metadata.name },
        },
      },
      afterMonitoringCrds(args.monitoring, { ...k8sOpts, dependsOn: [operator] }),
    );

    const host = (suffix: string) =>
      pulumi.interpolate`${clusterName}-${suffix}.${namespace}.svc.cluster.local`;
    this.endpoint = host('rw');
    this.replicaEndpoints = pulumi.all([host('ro')]);
    // The operator signs server certificates with its own CA: encrypted, verified by nobody (dev).
    const params = 'sslmode=require&uselibpqcompat=true';
    this.url = pulumi.secret(
      pulumi.interpolate`postgres://${username}:${password.result}@${host('rw')}:5432/${database}?${params}`,
    );
    this.dynamicUsers = {
      primaryHost: host('rw'),
      replicaHosts: pulumi.all([host('ro')]),
      database,
      urlParams: params,
    };
    this.replicaUrls = pulumi.secret(
      pulumi.interpolate`postgres://${username}:${password.result}@${host('ro')}:5432/${database}?${params}`,
    );
    this.admin = {
      host: host('rw'),
      port: 5432,
      database,
      user: 'postgres',
      password: superuserPassword.result,
      sslmode: 'require',
    };
    this.exporterPassword = new random.RandomPassword(
      `${name}-exporter`,
      { length: 32, special: false },
      { parent: this },
    ).result;
    // The operator's services: `-rw` is the primary, `-ro` the replicas (same pg_* names as RDS).
    this.exporterTargets = [
      { role: 'primary', host: host('rw') },
      { role: 'replica-1', host: host('ro') },
    ].map((t) => ({
      ...t,
      uri: pulumi.interpolate`${t.host}:5432/${database}?sslmode=require`,
    }));
    this.egressPeers = [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
        podSelector: { matchLabels: cnpgInstancePods },
      },
    ];
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
