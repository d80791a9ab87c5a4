import type * as pulumi from '@pulumi/pulumi';

/**
 * The stack outputs contract: what workflows, drills and operators read with
 * `pulumi stack output <name>`. Changing a name breaks them; the infra tests check every stack
 * exports exactly these.
 */
export interface StackOutputs {
  /** EKS cluster name (dev: the kubeconfig context). */
  clusterName: pulumi.Output<string>;
  /** Kubeconfig for the cluster (secret; empty on dev, which uses the caller's own). */
  kubeconfig: pulumi.Output<string>;
  /** Writer endpoint host of Postgres (RDS Proxy on AWS). */
  databaseEndpoint: pulumi.Output<string>;
  /** Read replica hosts. */
  databaseReplicaEndpoints: pulumi.Output<string[]>;
  /** Redis primary endpoint host. */
  redisEndpoint: pulumi.Output<string>;
  /** Public URL of the API. */
  appUrl: string;
  /** Image reference the service runs. */
  image: string;
  /** `sha256:...` digest of that image, promoted from staging to production; null when tagged (dev). */
  imageDigest: string | null;
}

export const stackOutputNames = [
  'clusterName',
  'kubeconfig',
  'databaseEndpoint',
  'databaseReplicaEndpoints',
  'redisEndpoint',
  'appUrl',
  'image',
  'imageDigest',
] as const satisfies readonly (keyof StackOutputs)[];
