import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { serviceIdentity } from '../../catalog/service-identity';
import type { StackConfig } from '../config/stack-config';
import {
  restrictedContainerSecurityContext,
  restrictedNamespaceLabels,
  restrictedPodSecurityContext,
} from '../kubernetes/pod-security';
import type { ClusterHandle } from './cluster';
import { albIngressAnnotations } from './ingress-controller';
import { vaultAppRole, vaultAppSecretPath } from './vault';

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export interface RagAppArgs {
  config: StackConfig['app'];
  cluster: ClusterHandle;
  /** Settings the pods read from files rendered by Vault Agent (see Vault). */
  secretSettings: string[];
  /** Non-secret settings passed as plain environment variables. */
  settings: Record<string, pulumi.Input<string>>;
  /** Egress the pods need: name -> peers and port. */
  egress: { peers: Peer[]; port: number }[];
  /** Namespaces allowed to reach the API port (ingress controller, Prometheus). */
  ingressFromNamespaces: string[];
  /** Address ranges allowed to reach the API port (the ALB's subnets on AWS). */
  ingressFromCidrs: string[];
  /** Must finish before the migration Job runs (Vault configured with the service's settings). */
  dependsOn: pulumi.Resource[];
}

// Every name comes from the identity the alerts and dashboards select on (namespace, job,
// deployment), so what runs is what they watch.
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
const migratePodLabels = { ...appLabels, 'app.kubernetes.io/component': 'migrate' };

/** What the image (app/Dockerfile) and the pod spec must agree on; a test compares the two. */
export const appContainer = {
  name: serviceIdentity.service,
  /** Non-root UID/GID the pods run as (the image's USER). */
  uid: 10001,
  httpPort: 8080,
  /**
   * node on tsc's output (`npm run build`), paths relative to the image's WORKDIR: what the
   * package.json scripts (start, migrate) run after building, without npm, which needs a writable
   * cache and would swallow SIGTERM.
   */
  serveCommand: ['node', 'dist/app/src/main.js'],
  migrateCommand: ['node', 'dist/app/src/stores/postgres/migrate-cli.js'],
  /** The only writable path (emptyDir); the root filesystem is read-only. */
  writablePath: '/tmp',
} as const;
const { uid, httpPort } = appContainer;

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
  readonly serviceMonitorPort = 'http';
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

    // Vault Agent renders each setting into /vault/secrets/<NAME> before the container starts; the
    // service reads NAME_FILE (app/src/config.ts). Static KV: the pre-populate init container is enough.
    const vaultAnnotations: Record<string, string> = {
      'vault.hashicorp.com/agent-inject': 'true',
      'vault.hashicorp.com/agent-pre-populate-only': 'true',
      'vault.hashicorp.com/role': vaultAppRole,
      'vault.hashicorp.com/agent-run-as-user': String(uid),
      'vault.hashicorp.com/agent-run-as-group': String(uid),
    };
    for (const setting of args.secretSettings) {
      vaultAnnotations[`vault.hashicorp.com/agent-inject-secret-${setting}`] = vaultAppSecretPath;
      vaultAnnotations[`vault.hashicorp.com/agent-inject-template-${setting}`] =
        `{{- with secret "${vaultAppSecretPath}" -}}{{ .Data.data.${setting} }}{{- end -}}`;
    }
    const env: k8s.types.input.core.v1.EnvVar[] = [
      { name: 'NODE_ENV', value: 'production' },
      { name: 'PORT', value: String(httpPort) },
      ...Object.entries({ ...config.settings, ...args.settings }).map(([n, value]) => ({
        name: n,
        value,
      })),
      ...args.secretSettings.map((s) => ({ name: `${s}_FILE`, value: `/vault/secrets/${s}` })),
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
    ): k8s.types.input.core.v1.PodSpec => ({
      serviceAccountName: account.metadata.name,
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
            metadata: { labels: migratePodLabels, annotations: vaultAnnotations },
            spec: {
              // Run to completion: no probes (the guardrail exempts Jobs), the deadline bounds it.
              ...podSpec([...appContainer.migrateCommand], {}),
              restartPolicy: 'Never',
            },
          },
        },
        // The pod template is immutable: a new image means a new Job (so migrations run again).
      },
      {
        ...k8sOpts,
        dependsOn: args.dependsOn,
        deleteBeforeReplace: true,
        replaceOnChanges: ['spec'],
      },
    );

    const httpGet = (path: string) => ({ httpGet: { path, port: 'http' } });
    const zoneSpread = cluster.serviceAccountRole ? 'DoNotSchedule' : 'ScheduleAnyway';
    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { name: serviceIdentity.deployment, namespace: ns, labels: appLabels },
        spec: {
          // No replicas: the HPA owns the count. A declared one would be re-applied by every
          // `pulumi up` (server-side apply), resetting the HPA's choice or conflicting with it.
          revisionHistoryLimit: 5,
          selector: { matchLabels: apiPodLabels },
          strategy: {
            type: 'RollingUpdate',
            rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
          },
          template: {
            metadata: { labels: apiPodLabels, annotations: vaultAnnotations },
            spec: {
              ...podSpec([...appContainer.serveCommand], {
                ports: [{ name: 'http', containerPort: httpPort }],
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
              }),
              terminationGracePeriodSeconds: 45,
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: 'topology.kubernetes.io/zone',
                  whenUnsatisfiable: zoneSpread,
                  labelSelector: { matchLabels: apiPodLabels },
                },
                {
                  maxSkew: 1,
                  topologyKey: 'kubernetes.io/hostname',
                  whenUnsatisfiable: 'ScheduleAnyway',
                  labelSelector: { matchLabels: apiPodLabels },
                },
              ],
            },
          },
        },
      },
      { ...k8sOpts, dependsOn: [migrations] },
    );

    const service = new k8s.core.v1.Service(
      name,
      {
        // prometheus-operator names the scrape job after the Service: the alerts' `job`.
        metadata: { name: serviceIdentity.job, namespace: ns, labels: appLabels },
        spec: {
          selector: apiPodLabels,
          ports: [{ name: this.serviceMonitorPort, port: 80, targetPort: 'http' }],
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
                paths: [
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: service.metadata.name, port: { name: 'http' } } },
                  },
                ],
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
        // Named after the Deployment: HpaMaxedOut selects `horizontalpodautoscaler` by that name.
        metadata: { name: serviceIdentity.deployment, namespace: ns, labels: appLabels },
        spec: {
          scaleTargetRef: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: deployment.metadata.name,
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

    this.networkPolicies(name, ns, args, k8sOpts);
    this.registerOutputs({ url: this.url });
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
