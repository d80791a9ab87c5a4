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
  /** The master or superuser login: the bootstrap Job's alone (postgres-bootstrap.ts). */
  readonly admin: PostgresAdminLogin;
  /**
   * The exporters' login (catalog/database-roles.ts `exporter`, a member of pg_monitor), created by
   * the bootstrap with this password; the exporters read it from a file.
   */
  readonly exporterPassword: pulumi.Output<string>;
  /**
   * How Vault's short-lived users reach the servers: the primary itself (a pooler that holds its
   * own per-user secrets, like RDS Proxy, would refuse them), the replicas, and the libpq query
   * parameters of those URLs (TLS mode).
   */
  readonly dynamicUsers: {
    readonly primaryHost: pulumi.Output<string>;
    readonly replicaHosts: pulumi.Output<string[]>;
    readonly database: string;
    readonly urlParams: string;
  };
}

export interface PostgresAdminLogin {
  /** The primary itself. */
  readonly host: pulumi.Input<string>;
  readonly port: number;
  readonly database: string;
  readonly user: pulumi.Input<string>;
  readonly password: pulumi.Input<string>;
  /** libpq sslmode for psql. */
  readonly sslmode: string;
}

export interface PostgresExporterTarget {
  /** `primary`, `replica-1`, ...: the exporter's name suffix. */
  readonly role: string;
  /** Host name, shown as the `instance` label. */
  readonly host: pulumi.Output<string>;
  /**
   * The server without credentials, `host:port/database?sslmode=...` (the exporter's
   * DATA_SOURCE_URI); the user and password come from the exporters' login.
   */
  readonly uri: pulumi.Output<string>;
}
