import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { DevStackConfig } from '../config/stack-config';
import {
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../kubernetes/pod-security';
import type { ClusterHandle } from './cluster';
import type { DatastoreConnection } from './datastore-connection';

export interface InClusterRedisArgs {
  config: DevStackConfig['redis'];
  cluster: ClusterHandle;
  namespace: pulumi.Input<string>;
}

/** A single password-protected Redis with an append-only file on a volume (dev stack). */
/** The Redis pods' labels (what their NetworkPolicy selects). */
export const redisPods = {
  'app.kubernetes.io/name': 'redis',
  'app.kubernetes.io/part-of': 'rag-platform',
};

export class InClusterRedis extends pulumi.ComponentResource implements DatastoreConnection {
  readonly url: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly port = 6379;
  readonly egressPeers;

  constructor(name: string, args: InClusterRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:redis:InClusterRedis', name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const { config, namespace } = args;
    const labels = redisPods;

    const password = new random.RandomPassword(
      `${name}-auth`,
      { length: 48, special: false },
      { parent: this },
    );
    const secret = new k8s.core.v1.Secret(
      name,
      { metadata: { name: 'redis-auth', namespace }, stringData: { password: password.result } },
      k8sOpts,
    );
    new k8s.core.v1.Service(
      name,
      {
        metadata: { name: 'redis', namespace, labels },
        spec: {
          selector: labels,
          ports: [{ name: 'redis', port: this.port, targetPort: 'redis' }],
        },
      },
      k8sOpts,
    );
    // The StatefulSet's governing Service: headless, so each pod keeps a stable DNS name.
    const headless = new k8s.core.v1.Service(
      `${name}-headless`,
      {
        metadata: { name: 'redis-headless', namespace, labels },
        spec: {
          clusterIP: 'None',
          selector: labels,
          ports: [{ name: 'redis', port: this.port, targetPort: 'redis' }],
        },
      },
      k8sOpts,
    );
    const probe = { tcpSocket: { port: 'redis' }, periodSeconds: 10, timeoutSeconds: 2 };
    new k8s.apps.v1.StatefulSet(
      name,
      {
        metadata: { name: 'redis', namespace, labels },
        spec: {
          serviceName: headless.metadata.name,
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              // Not the image's low `redis` UID 999: Redis writes only to /data, which fsGroup
              // makes writable, so any unprivileged UID works.
              securityContext: restrictedPodSecurityContext(10001),
              automountServiceAccountToken: false,
              containers: [
                {
                  name: 'redis',
                  image: config.image,
                  args: [
                    '--appendonly',
                    'yes',
                    '--dir',
                    '/data',
                    '--requirepass',
                    '$(REDIS_PASSWORD)',
                  ],
                  env: [
                    {
                      name: 'REDIS_PASSWORD',
                      valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'password' } },
                    },
                  ],
                  ports: [{ name: 'redis', containerPort: this.port }],
                  resources: {
                    requests: { cpu: '50m', memory: '128Mi', 'ephemeral-storage': '16Mi' },
                    limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '128Mi' },
                  },
                  securityContext: restrictedContainerSecurityContext,
                  startupProbe: { ...probe, failureThreshold: 30 },
                  // Ready when it answers commands (loading the AOF it does not); alive while it
                  // listens, so a long load is not killed.
                  readinessProbe: {
                    exec: {
                      command: [
                        'sh',
                        '-c',
                        'redis-cli -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG',
                      ],
                    },
                    periodSeconds: 10,
                    timeoutSeconds: 2,
                  },
                  livenessProbe: { ...probe, failureThreshold: 6 },
                  volumeMounts: [{ name: 'data', mountPath: '/data' }],
                },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: {
                accessModes: ['ReadWriteOnce'],
                storageClassName: args.cluster.storageClassName,
                resources: { requests: { storage: `${config.storageGb}Gi` } },
              },
            },
          ],
        },
      },
      k8sOpts,
    );

    this.endpoint = pulumi.interpolate`redis.${namespace}.svc.cluster.local`;
    this.url = pulumi.secret(
      pulumi.interpolate`redis://:${password.result}@${this.endpoint}:${this.port}`,
    );
    this.egressPeers = [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
        podSelector: { matchLabels: labels },
      },
    ];
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
