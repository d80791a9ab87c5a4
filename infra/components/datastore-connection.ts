import type * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';

/** How the service reaches a data store, whichever implementation provides it. */
export interface DatastoreConnection {
  /** Connection URL with credentials (secret). */
  readonly url: pulumi.Output<string>;
  /** Host name of the writer endpoint (no credentials), for stack outputs. */
  readonly endpoint: pulumi.Output<string>;
  readonly port: number;
  /** NetworkPolicy peers the service needs egress to for this store. */
  readonly egressPeers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
}

export interface PostgresConnection extends DatastoreConnection {
  /** Comma-separated replica URLs with credentials (secret), the app's DATABASE_REPLICA_URLS. */
  readonly replicaUrls: pulumi.Output<string>;
  readonly replicaEndpoints: pulumi.Output<string[]>;
  /**
   * Every Postgres server the exporter scrapes, one target each: the primary itself (not a pooler
   * in front of it) and each replica endpoint. `dsn` carries credentials (secret).
   */
  readonly exporterTargets: readonly PostgresExporterTarget[];
}

export interface PostgresExporterTarget {
  /** `primary`, `replica-1`, ...: the exporter's name suffix. */
  readonly role: string;
  /** Host name, shown as the `instance` label. */
  readonly host: pulumi.Output<string>;
  /** A lib/pq connection URL (the exporter's DATA_SOURCE_NAME), secret. */
  readonly dsn: pulumi.Output<string>;
}
