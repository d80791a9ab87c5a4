import { createHash } from 'node:crypto';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { metrics } from '../../catalog/metrics/metric-catalog';
import { sel } from '../../catalog/promql/selector';
import { serviceIdentity } from '../../catalog/service-identity';
import type { StackConfig } from '../config/stack-config';
import type { CanaryAnalysis } from '../observability/generated-artifacts';
import {
  restrictedContainerSecurityContext,
  restrictedNamespaceLabels,
  restrictedPodSecurityContext,
} from '../kubernetes/pod-security';
import type { ClusterHandle } from './cluster';
import { albIdleTimeoutSeconds, albIngressAnnotations } from './ingress-controller';
import { monitoringNamespace } from './observability';
import { vaultAgentAnnotations, vaultAppSecretPath } from './vault';

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export interface RagAppArgs {
  config: StackConfig['app'];
  cluster: ClusterHandle;
  /** Settings the pods read from files Vault Agent renders from the service's KV path (see Vault). */
  secretSettings: string[];
  /** How the pods log in to Vault and the settings rendered from leased (dynamic) secrets. */
  vault: {
    /** Kubernetes auth roles: the serving pods', and the migration Job's (own ServiceAccount). */
    roles: { app: string; migrations: string };
    migrationServiceAccount: string;
    /**
     * Setting name -> Vault Agent template (leased users, operators' secrets), for the API and
     * worker pods and for the migrations.
     */
    leased: {
      serving: Record<string, { path: string; template: pulumi.Input<string> }>;
      migrations: Record<string, { path: string; template: pulumi.Input<string> }>;
    };
    /** Issues the Secret with Vault's CA in the service's namespace (Vault Agent mounts it). */
    trust: (
      name: string,
      namespace: pulumi.Output<string>,
      opts: pulumi.CustomResourceOptions,
    ) => pulumi.Resource;
  };
  /** Non-secret settings passed as plain environment variables. */
  settings: Record<string, pulumi.Input<string>>;
  /** Non-secret settings of the API and worker pods only (not the migration Job). */
  servingSettings: Record<string, pulumi.Input<string>>;
  /** Egress the pods need: name -> peers and port. */
  egress: { peers: Peer[]; port: number }[];
  /** Namespaces allowed to reach the API port (ingress controller, Prometheus). */
  ingressFromNamespaces: string[];
  /** Address ranges allowed to reach the API port (the ALB's subnets on AWS). */
  ingressFromCidrs: string[];
  /** Must finish before the migration Job runs (Vault configured with the service's settings). */
  dependsOn: pulumi.Resource[];
  /** The canary: Argo Rollouts' CRDs, the generated SLO analysis and the Prometheus it queries. */
  rollout: {
    config: StackConfig['rollouts'];
    crdsInstalled: pulumi.Resource;
    analysis: CanaryAnalysis;
    prometheusUrl: string;
  };
  /** Ingestion worker pods scaled by KEDA on the queue depth the API pods export. */
  workers: {
    config: StackConfig['ingestionWorkers'];
    crdsInstalled: pulumi.Resource;
    prometheusUrl: string;
  };
}

// Every name comes from the identity the alerts and dashboards select on (namespace, job,
// deployment), so what runs is what they watch.
/**
 * What the Ingress publishes; everything else the service serves stays inside the cluster. The
 * health endpoints answer with a status alone on the public port (the detail and /metrics are on
 * the internal one), and the deploy's smoke test and uptime checks read them from outside.
 */
export const publicPaths = [
  { path: '/v1', pathType: 'Prefix' },
  { path: '/openapi.json', pathType: 'Exact' },
  { path: '/docs', pathType: 'Prefix' },
  { path: '/healthz', pathType: 'Exact' },
  { path: '/readyz', pathType: 'Exact' },
  // The public keys of access tokens, for verifiers outside (the token routes are under /v1).
  { path: '/.well-known/jwks.json', pathType: 'Exact' },
] as const;

export const appNamespace = serviceIdentity.namespace;
export const appServiceAccount = serviceIdentity.serviceAccount;
/** On every pod of the service (API and migrations): what its egress NetworkPolicy selects. */
export const appLabels = {
  'app.kubernetes.io/name': serviceIdentity.service,
  'app.kubernetes.io/part-of': 'rag-platform',
};
/**
 * The serving pods only. Service, PDB, spread and ingress select these, never the migration Job's
 * pods, which share appLabels but serve nothing.
 */
export const apiPodLabels = { ...appLabels, 'app.kubernetes.io/component': 'api' };
/** Ingestion worker pods: appLabels (egress) but not apiPodLabels (no traffic, no API budget). */
export const workerPodLabels = { ...appLabels, 'app.kubernetes.io/component': 'ingest-worker' };
const migratePodLabels = { ...appLabels, 'app.kubernetes.io/component': 'migrate' };

/**
 * How often the serving pods' Vault Agent reads the operators' KV secret again (the injector's
 * default is 5 minutes): a rotation step reaches every pod within this plus one reload.
 */
export const vaultStaticSecretRenderInterval = '1m';

/** What the image (app/Dockerfile) and the pod spec must agree on; a test compares the two. */
export const appContainer = {
  name: serviceIdentity.service,
  /** Non-root UID/GID the pods run as (the image's USER). */
  uid: 10001,
  httpPort: 8080,
  /**
   * INTERNAL_PORT (app/src/config.ts): /metrics and the readiness detail, for the in-cluster
   * scraper only. The Ingress never routes to it and the public port serves neither.
   */
  internalPort: 9090,
  /**
   * node on tsc's output (`npm run build`), paths relative to the image's WORKDIR: what the
   * package.json scripts (start, migrate) run after building, without npm, which needs a writable
   * cache and would swallow SIGTERM.
   */
  serveCommand: ['node', 'dist/app/src/main.js'],
  /** PROCESS_ROLE (app/src/config.ts) of each workload: API pods never consume ingestion jobs. */
  roles: { api: 'api', worker: 'worker' },
  migrateCommand: ['node', 'dist/app/src/stores/postgres/migrate-cli.js'],
  /** The only writable path (emptyDir); the root filesystem is read-only. */
  writablePath: '/tmp',
} as const;
const { uid, httpPort, internalPort } = appContainer;

/** The generated SLO burn-rate analysis every canary step is judged by. */
export const canaryAnalysisTemplateName = `${serviceIdentity.service}-slo-burn-rate`;
/** Rollout annotation carrying a hash of the Deployment's pod template it rolls out. */
export const podTemplateAnnotation = 'rag-platform.io/pod-template-sha256';
/**
 * What `pulumi up` waits for on the Rollout (kubectl-wait syntax). Argo writes
 * status.observedGeneration as a string, which the provider's generation check skips: the
 * template annotation above changes in the same update, and the Deployment (updated first) has
 * already set the controller progressing, so a stale Healthy is not what it reads in practice.
 */
export const rolloutWaitFor = 'jsonpath={.status.phase}=Healthy';
/** Queued plus active ingestion jobs, from the API pods' gauge of the one shared queue. */
export const ingestQueueDepthQuery = `sum(max by (state) (${sel(metrics.queueDepth, {
  state: { re: 'queued|active' },
})}))`;

/**
 * The service: restricted namespace, ServiceAccount, a migration Job that completes before the
 * Deployment rolls, the Deployment (hardened, probed, spread over zones), Service, TLS Ingress,
 * HPA, PodDisruptionBudget and default-deny NetworkPolicies with only the egress it needs.
 */
export class RagApp extends pulumi.ComponentResource {
  readonly url: string;
  readonly image: string;
  readonly imageDigest: string | null;
  readonly namespace = appNamespace;
  /** The Service port Prometheus scrapes: the internal listener, never the public one. */
  readonly serviceMonitorPort = 'metrics';
  /** Host name the ingress controller published in the Ingress's status (the ALB on AWS). */
  readonly loadBalancerHostname: pulumi.Output<string>;

  constructor(name: string, args: RagAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:app:RagApp', name, {}, opts);
    const { config, cluster } = args;
    const k8sOpts = { parent: this, provider: cluster.provider };
    this.image = config.image;
    this.imageDigest = config.image.includes('@') ? config.image.split('@')[1] : null;
    this.url = `https://${config.host}`;

    const namespace = new k8s.core.v1.Namespace(
      name,
      { metadata: { name: appNamespace, labels: restrictedNamespaceLabels() } },
      k8sOpts,
    );
    const ns = namespace.metadata.name;
    const account = new k8s.core.v1.ServiceAccount(
      name,
      { metadata: { name: appServiceAccount, namespace: ns, labels: appLabels } },
      k8sOpts,
    );

    const migrationAccount = new k8s.core.v1.ServiceAccount(
      `${name}-migrate`,
      {
        metadata: {
          name: args.vault.migrationServiceAccount,
          namespace: ns,
          labels: migratePodLabels,
        },
      },
      k8sOpts,
    );
    // Vault Agent verifies Vault with the internal CA from this Secret (mounted at /vault/tls).
    const vaultTrust = args.vault.trust(`${name}-vault-ca`, ns, {
      ...k8sOpts,
      dependsOn: [namespace],
    });

    // Vault Agent renders each setting into /vault/secrets/<NAME>; the service reads NAME_FILE
    // (app/src/config.ts). The serving pods run the Agent as a sidecar: it renews their leased
    // database user and renders the next one before the lease ends, and the service re-reads the
    // file. The migration Job renders once (a sidecar would keep the Job from completing); its
    // user outlives the migrations and is revoked when its lease ends.
    const vaultAnnotationsFor = (
      role: string,
      leased: Record<string, { path: string; template: pulumi.Input<string> }>,
      prePopulateOnly: boolean,
    ): Record<string, pulumi.Input<string>> => {
      const annotations: Record<string, pulumi.Input<string>> = {
        ...vaultAgentAnnotations(role),
        'vault.hashicorp.com/agent-pre-populate-only': String(prePopulateOnly),
        'vault.hashicorp.com/agent-run-as-user': String(uid),
        'vault.hashicorp.com/agent-run-as-group': String(uid),
        // Static KV secrets (the signing keys, the pepper) are read again this often, not on
        // change: it bounds how long a `vault kv patch` takes to reach every pod.
        ...(prePopulateOnly
          ? {}
          : {
              'vault.hashicorp.com/template-static-secret-render-interval':
                vaultStaticSecretRenderInterval,
            }),
      };
      for (const setting of args.secretSettings) {
        annotations[`vault.hashicorp.com/agent-inject-secret-${setting}`] = vaultAppSecretPath;
        annotations[`vault.hashicorp.com/agent-inject-template-${setting}`] =
          `{{- with secret "${vaultAppSecretPath}" -}}{{ .Data.data.${setting} }}{{- end -}}`;
      }
      for (const [setting, { path, template }] of Object.entries(leased)) {
        annotations[`vault.hashicorp.com/agent-inject-secret-${setting}`] = path;
        annotations[`vault.hashicorp.com/agent-inject-template-${setting}`] = template;
      }
      return annotations;
    };
    const vaultAnnotations = vaultAnnotationsFor(
      args.vault.roles.app,
      args.vault.leased.serving,
      false,
    );
    const migrationVaultAnnotations = vaultAnnotationsFor(
      args.vault.roles.migrations,
      args.vault.leased.migrations,
      true,
    );
    const fileSettings = (leased: Record<string, unknown>) => [
      ...args.secretSettings,
      ...Object.keys(leased),
    ];
    const envFor = (
      role?: string,
      files = fileSettings(args.vault.leased.serving),
    ): k8s.types.input.core.v1.EnvVar[] => [
      ...(role ? [{ name: 'PROCESS_ROLE', value: role }] : []),
      { name: 'NODE_ENV', value: 'production' },
      { name: 'PORT', value: String(httpPort) },
      { name: 'INTERNAL_PORT', value: String(internalPort) },
      // Idle connections outlive the load balancer's, so the ALB never reuses one being closed.
      { name: 'HTTP_KEEP_ALIVE_TIMEOUT_MS', value: String((albIdleTimeoutSeconds + 5) * 1000) },
      // With Redis unreachable each pod enforces 1/this of every rate limit: at the HPA's floor the
      // fleet admits the configured rate, and no more than max/min times it when scaled out.
      { name: 'RATE_LIMIT_EXPECTED_REPLICAS', value: String(config.minReplicas) },
      // Only the serving pods run with a PROCESS_ROLE.
      ...Object.entries({
        ...config.settings,
        ...args.settings,
        ...(role ? args.servingSettings : {}),
      }).map(([n, value]) => ({ name: n, value })),
      ...files.map((s) => ({ name: `${s}_FILE`, value: `/vault/secrets/${s}` })),
    ];
    // Ephemeral storage covers the /tmp emptyDir (256Mi at most) and container logs: a pod that
    // fills the node's disk is evicted alone instead of taking the node's other pods with it.
    const resources = {
      requests: {
        cpu: config.cpuRequest,
        memory: config.memoryRequest,
        'ephemeral-storage': '128Mi',
      },
      limits: { cpu: config.cpuLimit, memory: config.memoryLimit, 'ephemeral-storage': '1Gi' },
    };
    const podSpec = (
      command: string[],
      extra: Partial<k8s.types.input.core.v1.Container>,
      role?: string,
      env = envFor(role),
      serviceAccount: pulumi.Input<string> = account.metadata.name,
    ): k8s.types.input.core.v1.PodSpec => ({
      serviceAccountName: serviceAccount,
      securityContext: restrictedPodSecurityContext(uid),
      containers: [
        {
          name: appContainer.name,
          image: config.image,
          imagePullPolicy: 'IfNotPresent',
          command,
          env,
          resources,
          securityContext: restrictedContainerSecurityContext,
          volumeMounts: [{ name: 'tmp', mountPath: appContainer.writablePath }],
          ...extra,
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }],
    });

    const migrations = new k8s.batch.v1.Job(
      `${name}-migrate`,
      {
        metadata: { namespace: ns, labels: migratePodLabels },
        spec: {
          backoffLimit: 3,
          activeDeadlineSeconds: 900,
          // No ttlSecondsAfterFinished: Pulumi owns this Job. A TTL-deleted Job shows up as drift on
          // every refresh and is recreated (migrations re-run) by the next unrelated `pulumi up`.
          template: {
            metadata: { labels: migratePodLabels, annotations: migrationVaultAnnotations },
            spec: {
              // Run to completion: no probes (the guardrail exempts Jobs), the deadline bounds it.
              ...podSpec(
                [...appContainer.migrateCommand],
                {},
                undefined,
                envFor(undefined, fileSettings(args.vault.leased.migrations)),
                migrationAccount.metadata.name,
              ),
              restartPolicy: 'Never',
            },
          },
        },
        // The pod template is immutable: a new image means a new Job (so migrations run again).
      },
      {
        ...k8sOpts,
        dependsOn: [...args.dependsOn, vaultTrust],
        deleteBeforeReplace: true,
        replaceOnChanges: ['spec'],
      },
    );

    const httpGet = (path: string) => ({ httpGet: { path, port: 'http' } });
    const zoneSpread = cluster.serviceAccountRole ? 'DoNotSchedule' : 'ScheduleAnyway';
    // API and worker pods run the same server (the worker's serves /healthz, /readyz and /metrics
    // only to its probes); PROCESS_ROLE decides whether it consumes ingestion jobs.
    const servingPod = (
      labels: Record<string, string>,
      role: string,
    ): k8s.types.input.core.v1.PodTemplateSpec => ({
      metadata: { labels, annotations: vaultAnnotations },
      spec: {
        ...podSpec(
          [...appContainer.serveCommand],
          {
            ports: [
              { name: 'http', containerPort: httpPort },
              { name: 'internal', containerPort: internalPort },
            ],
            startupProbe: { ...httpGet('/healthz'), periodSeconds: 2, failureThreshold: 60 },
            readinessProbe: {
              ...httpGet('/readyz'),
              periodSeconds: 5,
              timeoutSeconds: 2,
              failureThreshold: 2,
            },
            livenessProbe: {
              ...httpGet('/healthz'),
              periodSeconds: 10,
              timeoutSeconds: 2,
              failureThreshold: 3,
            },
            // Endpoints are removed asynchronously: keep serving while load balancers catch up.
            lifecycle: { preStop: { sleep: { seconds: 10 } } },
          },
          role,
        ),
        terminationGracePeriodSeconds: 45,
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: zoneSpread,
            labelSelector: { matchLabels: labels },
          },
          {
            maxSkew: 1,
            topologyKey: 'kubernetes.io/hostname',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: labels },
          },
        ],
      },
    });

    // The API's pod template lives in this Deployment, which the Rollout below references
    // (workloadRef) and scales to zero as its own pods come up: the Rollout owns the replicas and
    // the canary, while policy, kube-score and the schema checks keep reading a plain Deployment.
    const apiTemplate = servingPod(apiPodLabels, appContainer.roles.api);
    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { name: serviceIdentity.deployment, namespace: ns, labels: appLabels },
        spec: {
          // No replicas: the Rollout scales this Deployment (to zero once its pods are up). A
          // declared count would be re-applied by every `pulumi up` against the Rollout's.
          revisionHistoryLimit: 5,
          selector: { matchLabels: apiPodLabels },
          strategy: {
            type: 'RollingUpdate',
            rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
          },
          template: apiTemplate,
        },
      },
      { ...k8sOpts, dependsOn: [migrations] },
    );

    const rollout = this.canary(name, ns, args, k8sOpts, {
      deployment,
      migrations,
      apiTemplate,
    });

    const service = new k8s.core.v1.Service(
      name,
      {
        // prometheus-operator names the scrape job after the Service: the alerts' `job`.
        metadata: { name: serviceIdentity.job, namespace: ns, labels: appLabels },
        spec: {
          selector: apiPodLabels,
          ports: [
            { name: 'http', port: 80, targetPort: 'http' },
            { name: this.serviceMonitorPort, port: internalPort, targetPort: 'internal' },
          ],
        },
      },
      k8sOpts,
    );

    const ingress = new k8s.networking.v1.Ingress(
      name,
      {
        metadata: {
          name: serviceIdentity.service,
          namespace: ns,
          labels: appLabels,
          annotations: config.tlsCertificateArn
            ? albIngressAnnotations(config.tlsCertificateArn)
            : undefined,
        },
        spec: {
          ingressClassName: config.ingressClassName,
          // On AWS the load balancer terminates TLS with the ACM certificate; on dev the controller uses the secret.
          tls: [{ hosts: [config.host], secretName: config.tlsSecretName }],
          rules: [
            {
              host: config.host,
              http: {
                // Only what clients use: the API, its description (generated from the routes,
                // nothing deployment-specific in it) and the status-only health endpoints.
                paths: publicPaths.map(({ path, pathType }) => ({
                  path,
                  pathType,
                  backend: { service: { name: service.metadata.name, port: { name: 'http' } } },
                })),
              },
            },
          ],
        },
      },
      k8sOpts,
    );

    this.loadBalancerHostname = ingress.status.apply(
      (s) => s?.loadBalancer?.ingress?.[0]?.hostname ?? '',
    );

    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      name,
      {
        // Named after the workload: HpaMaxedOut selects `horizontalpodautoscaler` by that name.
        metadata: { name: serviceIdentity.deployment, namespace: ns, labels: appLabels },
        spec: {
          // The Rollout owns the API's replicas (its scale subresource), not the Deployment.
          scaleTargetRef: {
            apiVersion: rollout.apiVersion,
            kind: rollout.kind,
            name: rollout.metadata.name,
          },
          minReplicas: config.minReplicas,
          maxReplicas: config.maxReplicas,
          metrics: [
            {
              type: 'Resource',
              resource: {
                name: 'cpu',
                target: { type: 'Utilization', averageUtilization: config.targetCpuPercent },
              },
            },
          ],
          behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
        },
      },
      k8sOpts,
    );

    new k8s.policy.v1.PodDisruptionBudget(
      name,
      {
        metadata: { name: serviceIdentity.deployment, namespace: ns, labels: appLabels },
        spec: { selector: { matchLabels: apiPodLabels }, maxUnavailable: 1 },
      },
      k8sOpts,
    );

    this.ingestionWorkers(name, ns, args, k8sOpts, {
      template: servingPod(workerPodLabels, appContainer.roles.worker),
      migrations,
    });
    this.networkPolicies(name, ns, args, k8sOpts);
    this.registerOutputs({ url: this.url });
  }

  /**
   * The Rollout that runs the API as a canary (20%, then 50%, each held `stepPauseMinutes`) with
   * the generated SLO burn-rate analysis in the background from the first step: a failed analysis
   * aborts the canary, scaling its pods away while the stable ones keep serving. `pulumi up` waits
   * for the Rollout to be Healthy, so an aborted canary (Degraded) fails the deploy at the timeout.
   */
  private canary(
    name: string,
    ns: pulumi.Output<string>,
    args: RagAppArgs,
    k8sOpts: pulumi.CustomResourceOptions,
    parts: {
      deployment: k8s.apps.v1.Deployment;
      migrations: k8s.batch.v1.Job;
      apiTemplate: k8s.types.input.core.v1.PodTemplateSpec;
    },
  ): k8s.apiextensions.CustomResource {
    const { rollout: r } = args;
    const analysis = new k8s.apiextensions.CustomResource(
      `${name}-slo-burn`,
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'AnalysisTemplate',
        metadata: { name: canaryAnalysisTemplateName, namespace: ns, labels: appLabels },
        spec: {
          metrics: r.analysis.metrics.map((m) => ({
            ...m,
            provider: { prometheus: { ...m.provider.prometheus, address: r.prometheusUrl } },
          })),
        },
      },
      { ...k8sOpts, dependsOn: [r.crdsInstalled] },
    );
    const pause = { pause: { duration: `${r.config.stepPauseMinutes}m` } };
    return new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: {
          name: serviceIdentity.deployment,
          namespace: ns,
          labels: appLabels,
          annotations: {
            'pulumi.com/waitFor': rolloutWaitFor,
            // Both pauses, the pods' start and the analysis' last measurement, with room to spare.
            'pulumi.com/timeoutSeconds': String((2 * r.config.stepPauseMinutes + 15) * 60),
            // The pod template lives in the Deployment; without this a new image would change
            // the Deployment only and `pulumi up` would not wait for the canary at all.
            [podTemplateAnnotation]: pulumi
              .output(parts.apiTemplate)
              .apply((t) => createHash('sha256').update(JSON.stringify(t)).digest('hex')),
          },
        },
        spec: {
          selector: { matchLabels: apiPodLabels },
          workloadRef: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: parts.deployment.metadata.name,
            // Migrating a running Deployment: its pods leave only as the Rollout's become ready.
            scaleDown: 'progressively',
          },
          revisionHistoryLimit: 5,
          // A canary that never becomes ready (crash loop, failed probes) aborts too.
          progressDeadlineSeconds: 600,
          progressDeadlineAbort: true,
          strategy: {
            canary: {
              maxSurge: '25%',
              maxUnavailable: 0,
              analysis: { templates: [{ templateName: analysis.metadata.name }] },
              steps: [{ setWeight: 20 }, pause, { setWeight: 50 }, pause],
            },
          },
        },
      },
      // Migrations first (expand before the new version runs next to the old one).
      { ...k8sOpts, dependsOn: [r.crdsInstalled, parts.migrations, parts.deployment, analysis] },
    );
  }

  /**
   * Ingestion in its own pods (PROCESS_ROLE=worker), so a burst of documents never takes CPU from
   * queries. KEDA sizes them on the queue depth the API pods export (queued + active jobs; every
   * API pod reports the same shared queue, hence max), and keeps `fallback` replicas when
   * Prometheus cannot be read.
   */
  private ingestionWorkers(
    name: string,
    ns: pulumi.Output<string>,
    args: RagAppArgs,
    k8sOpts: pulumi.CustomResourceOptions,
    parts: { template: k8s.types.input.core.v1.PodTemplateSpec; migrations: k8s.batch.v1.Job },
  ): void {
    const { config, crdsInstalled, prometheusUrl } = args.workers;
    const worker = new k8s.apps.v1.Deployment(
      `${name}-ingest-worker`,
      {
        metadata: { name: serviceIdentity.ingestWorker, namespace: ns, labels: appLabels },
        spec: {
          // No replicas: the HPA KEDA creates from the ScaledObject owns the count.
          revisionHistoryLimit: 5,
          selector: { matchLabels: workerPodLabels },
          strategy: {
            type: 'RollingUpdate',
            rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
          },
          template: parts.template,
        },
      },
      { ...k8sOpts, dependsOn: [parts.migrations] },
    );
    new k8s.apiextensions.CustomResource(
      `${name}-ingest-worker`,
      {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: serviceIdentity.ingestWorker, namespace: ns, labels: appLabels },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: worker.metadata.name },
          minReplicaCount: config.minReplicas,
          maxReplicaCount: config.maxReplicas,
          pollingInterval: 15,
          cooldownPeriod: 300,
          fallback: { failureThreshold: 3, replicas: Math.max(1, config.minReplicas) },
          triggers: [
            {
              type: 'prometheus',
              metadata: {
                serverAddress: prometheusUrl,
                query: ingestQueueDepthQuery,
                threshold: String(config.jobsPerReplica),
                activationThreshold: '0',
              },
            },
          ],
        },
      },
      { ...k8sOpts, dependsOn: [crdsInstalled, worker] },
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-ingest-worker`,
      {
        metadata: { name: serviceIdentity.ingestWorker, namespace: ns, labels: appLabels },
        // An evicted worker's jobs are retried (leases): one at a time keeps ingestion going.
        spec: { selector: { matchLabels: workerPodLabels }, maxUnavailable: 1 },
      },
      k8sOpts,
    );
  }

  private networkPolicies(
    name: string,
    ns: pulumi.Output<string>,
    args: RagAppArgs,
    k8sOpts: pulumi.CustomResourceOptions,
  ) {
    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      {
        metadata: { name: 'default-deny', namespace: ns },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      },
      k8sOpts,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-ingress`,
      {
        metadata: { name: `${serviceIdentity.service}-ingress`, namespace: ns },
        spec: {
          podSelector: { matchLabels: apiPodLabels },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                ...args.ingressFromNamespaces.map((n) => ({
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': n } },
                })),
                ...args.ingressFromCidrs.map((cidr) => ({ ipBlock: { cidr } })),
              ],
              ports: [{ protocol: 'TCP', port: httpPort }],
            },
            // The internal port (metrics, readiness detail): Prometheus only, never the ingress
            // controller or the load balancer's address ranges.
            {
              from: [
                {
                  namespaceSelector: {
                    matchLabels: { 'kubernetes.io/metadata.name': monitoringNamespace },
                  },
                  podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
                },
              ],
              ports: [{ protocol: 'TCP', port: internalPort }],
            },
          ],
        },
      },
      k8sOpts,
    );
    const dns = {
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        },
      ],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    };
    new k8s.networking.v1.NetworkPolicy(
      `${name}-egress`,
      {
        metadata: { name: `${serviceIdentity.service}-egress`, namespace: ns },
        spec: {
          podSelector: { matchLabels: appLabels },
          policyTypes: ['Egress'],
          egress: [
            dns,
            ...args.egress.map((e) => ({
              to: e.peers,
              ports: [{ protocol: 'TCP', port: e.port }],
            })),
          ],
        },
      },
      k8sOpts,
    );
  }
}
