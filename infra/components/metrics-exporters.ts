import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { databaseRoles } from '../../catalog/database-roles';
import { scrapeJobs, type ScrapeJob } from '../../catalog/metrics/scrape-jobs';
import {
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../kubernetes/pod-security';
import { afterMonitoringCrds, type MonitoringCrds } from '../observability/monitoring-crds';
import type { ClusterHandle } from './cluster';
import type { PostgresExporterTarget } from './datastore-connection';

/**
 * Upstream exporter images (the ones prometheus-community's charts run), pinned by tag and digest
 * (the release's multi-arch index): the node pulls what was reviewed even if a tag moves.
 */
export const exporterImages = {
  postgres:
    'quay.io/prometheuscommunity/postgres-exporter:v0.17.1@sha256:38606faa38c54787525fb0ff2fd6b41b4cfb75d455c1df294927c5f611699b17',
  redis:
    'quay.io/oliver006/redis_exporter:v1.67.0@sha256:120f7ec77293459ccfdad66bb1db75ab72e8bfeab99f58b1cc2564cadcd7a9e7',
  blackbox:
    'prom/blackbox-exporter:v0.25.0@sha256:b04a9fef4fa086a02fc7fcd8dcdbc4b7b35cc30cdee860fdc6a19dd8b208d63e',
} as const;

export const blackboxModule = 'https_2xx';
const postgresPasswordKey = 'postgres-password';
const redisPasswordKey = 'redis-password-map';

/**
 * redis_exporter's login without the password in its environment: REDIS_ADDR without credentials,
 * and REDIS_PASSWORD_FILE, a JSON map from address to password in which the exporter looks up
 * REDIS_ADDR as Go's url.String() prints it (`scheme://host:port`; exporter.LoadPwdFile and
 * lookupPasswordInPasswordMap). The service's URLs carry no user name (AUTH token or requirepass).
 */
export function redisExporterLogin(url: string): { addr: string; passwordMap: string } {
  const u = new URL(url);
  if (u.username) throw new Error('a Redis URL with a user name needs REDIS_USER too');
  const addr = `${u.protocol}//${u.host}`;
  return { addr, passwordMap: JSON.stringify({ [addr]: decodeURIComponent(u.password) }) };
}
// The exporters run as nobody; the images need no writable path.
const exporterUid = 65534;

export interface MetricsExportersArgs {
  cluster: ClusterHandle;
  monitoring: MonitoringCrds;
  namespace: pulumi.Input<string>;
  /**
   * One postgres-exporter per Postgres server (primary and each replica), logged in as the
   * exporters' login (catalog/database-roles.ts) with `password`, which it reads from a file.
   */
  postgres: { targets: readonly PostgresExporterTarget[]; password: pulumi.Output<string> };
  /** The service's Redis: URL with credentials (secret) and host for the `instance` label. */
  redis: { url: pulumi.Output<string>; host: pulumi.Input<string> };
  /** The service's public HTTPS URL whose certificate the blackbox exporter watches. */
  publicUrl: string;
}

interface ExporterSpec {
  name: string;
  image: string;
  port: number;
  job: ScrapeJob;
  /** The `instance` label: the scraped data store, not the exporter pod. */
  instance?: pulumi.Input<string>;
  args?: string[];
  env?: k8s.types.input.core.v1.EnvVar[];
  healthPath: string;
  volumes?: { volume: k8s.types.input.core.v1.Volume; mountPath: string }[];
}

/**
 * The exporters the alerts and dashboards read beyond kube-prometheus-stack: postgres-exporter and
 * redis-exporter against the data stores the service uses (RDS/ElastiCache on AWS, CloudNativePG
 * and in-cluster Redis on dev: the same pg_* and redis_* names everywhere), and a blackbox exporter
 * probing the public URL for `probe_ssl_earliest_cert_expiry` (ACM or a hand-made secret: no
 * cert-manager to ask). Plain Deployments, so the guardrails and schema checks cover them like every
 * other workload.
 */
export class MetricsExporters extends pulumi.ComponentResource {
  constructor(name: string, args: MetricsExportersArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:observability:MetricsExporters', name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const { namespace } = args;

    const credentials = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: 'exporter-credentials', namespace },
        stringData: pulumi.secret(
          pulumi.all([args.redis.url, args.postgres.password]).apply(([redis, password]) => ({
            [redisPasswordKey]: redisExporterLogin(redis).passwordMap,
            [postgresPasswordKey]: password,
          })),
        ),
      },
      k8sOpts,
    );
    // Passwords reach the exporters as files (DATA_SOURCE_PASS_FILE, REDIS_PASSWORD_FILE), never
    // as variables of the pod spec; the users and the servers are no secrets. Each exporter mounts
    // its own key only.
    const secretFile = (key: string) => ({
      volume: {
        name: 'credentials',
        secret: { secretName: credentials.metadata.name, items: [{ key, path: key }] },
      },
      mountPath: '/credentials',
    });
    const passwordFile = secretFile(postgresPasswordKey);
    for (const target of args.postgres.targets) {
      this.exporter(k8sOpts, args, {
        name: `postgres-exporter-${target.role}`,
        image: exporterImages.postgres,
        port: 9187,
        job: scrapeJobs.postgres,
        instance: target.host,
        env: [
          { name: 'DATA_SOURCE_URI', value: target.uri },
          { name: 'DATA_SOURCE_USER', value: databaseRoles.exporter },
          {
            name: 'DATA_SOURCE_PASS_FILE',
            value: `${passwordFile.mountPath}/${postgresPasswordKey}`,
          },
        ],
        healthPath: '/',
        volumes: [passwordFile],
      });
    }
    this.exporter(k8sOpts, args, {
      name: 'redis-exporter',
      image: exporterImages.redis,
      port: 9121,
      job: scrapeJobs.redis,
      instance: args.redis.host,
      // The address keeps the scheme (rediss:// = TLS on ElastiCache); the AUTH token is in the file.
      env: [
        {
          name: 'REDIS_ADDR',
          value: pulumi.unsecret(args.redis.url.apply((u) => redisExporterLogin(u).addr)),
        },
        { name: 'REDIS_PASSWORD_FILE', value: `/credentials/${redisPasswordKey}` },
      ],
      healthPath: '/health',
      volumes: [secretFile(redisPasswordKey)],
    });

    const blackboxConfig = new k8s.core.v1.ConfigMap(
      `${name}-blackbox`,
      {
        metadata: { name: 'blackbox-exporter', namespace },
        data: {
          'blackbox.yml': JSON.stringify({
            modules: {
              [blackboxModule]: {
                prober: 'http',
                timeout: '10s',
                http: { fail_if_not_ssl: true, preferred_ip_protocol: 'ip4' },
              },
            },
          }),
        },
      },
      k8sOpts,
    );
    const blackbox = this.exporter(k8sOpts, args, {
      name: 'blackbox-exporter',
      image: exporterImages.blackbox,
      port: 9115,
      job: scrapeJobs.blackbox,
      args: ['--config.file=/config/blackbox.yml'],
      healthPath: '/-/healthy',
      volumes: [
        {
          volume: { name: 'config', configMap: { name: blackboxConfig.metadata.name } },
          mountPath: '/config',
        },
      ],
      // The exporter's own metrics are not the probe's: only the Probe below scrapes it.
    });
    new k8s.apiextensions.CustomResource(
      `${name}-https-probe`,
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'Probe',
        metadata: { name: 'public-https', namespace },
        spec: {
          jobName: scrapeJobs.blackbox,
          interval: '60s',
          module: blackboxModule,
          prober: { url: pulumi.interpolate`${blackbox.metadata.name}.${namespace}.svc:9115` },
          targets: { staticConfig: { static: [`${args.publicUrl}/healthz`] } },
        },
      },
      afterMonitoringCrds(args.monitoring, k8sOpts),
    );
    this.registerOutputs({});
  }

  /** Deployment + Service (+ ServiceMonitor when it has a job of its own) for one exporter. */
  private exporter(
    k8sOpts: { parent: pulumi.Resource; provider: pulumi.ProviderResource },
    args: MetricsExportersArgs,
    spec: ExporterSpec,
  ): k8s.core.v1.Service {
    const { namespace } = args;
    const labels = {
      'app.kubernetes.io/name': spec.name,
      'app.kubernetes.io/part-of': 'rag-platform',
    };
    const probe = {
      httpGet: { path: spec.healthPath, port: 'metrics' },
      periodSeconds: 15,
      timeoutSeconds: 5,
    };
    new k8s.apps.v1.Deployment(
      spec.name,
      {
        metadata: { name: spec.name, namespace, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              securityContext: restrictedPodSecurityContext(exporterUid),
              automountServiceAccountToken: false,
              containers: [
                {
                  name: 'exporter',
                  image: spec.image,
                  args: spec.args,
                  env: spec.env,
                  ports: [{ name: 'metrics', containerPort: spec.port }],
                  resources: {
                    requests: { cpu: '10m', memory: '32Mi', 'ephemeral-storage': '16Mi' },
                    limits: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': '128Mi' },
                  },
                  securityContext: restrictedContainerSecurityContext,
                  readinessProbe: probe,
                  // Alive while the process listens: a data store that stops answering makes the
                  // exporter unready (and its metrics say why), not restarted in a loop.
                  livenessProbe: {
                    tcpSocket: { port: 'metrics' },
                    periodSeconds: 20,
                    failureThreshold: 3,
                  },
                  volumeMounts: spec.volumes?.map((v) => ({
                    name: v.volume.name,
                    mountPath: v.mountPath,
                    readOnly: true,
                  })),
                },
              ],
              volumes: spec.volumes?.map((v) => v.volume),
            },
          },
        },
      },
      k8sOpts,
    );
    const service = new k8s.core.v1.Service(
      spec.name,
      {
        metadata: { name: spec.name, namespace, labels },
        spec: {
          selector: labels,
          ports: [{ name: 'metrics', port: spec.port, targetPort: 'metrics' }],
        },
      },
      k8sOpts,
    );
    if (spec.job === scrapeJobs.blackbox) return service;
    new k8s.apiextensions.CustomResource(
      spec.name,
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: spec.name, namespace },
        spec: {
          namespaceSelector: { matchNames: [namespace] },
          selector: { matchLabels: labels },
          endpoints: [
            {
              port: 'metrics',
              interval: '30s',
              relabelings: [
                { targetLabel: 'job', replacement: spec.job },
                ...(spec.instance ? [{ targetLabel: 'instance', replacement: spec.instance }] : []),
              ],
            },
          ],
        },
      },
      afterMonitoringCrds(args.monitoring, k8sOpts),
    );
    return service;
  }
}
