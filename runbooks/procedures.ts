// Runbooks that belong to no alert: procedures on-call follows. The consistency test requires
// every file in runbooks/procedures/ to be listed here and every entry to have its file.
export const procedures = [
  { id: 'abort-canary', title: 'Abort a canary' },
  { id: 'alerting-pipeline-down', title: 'Alerting pipeline down' },
  { id: 'backups', title: 'Backups: what is backed up and how each is restored' },
  { id: 'bootstrap-environment', title: 'Bootstrap a new environment' },
  { id: 'deploy', title: 'Deploy to staging' },
  { id: 'drift-remediation', title: 'Remediate drift and roll back a change' },
  { id: 'hotfix', title: 'Ship a hotfix' },
  { id: 'incident-response', title: 'Incident response' },
  { id: 'maintenance-window', title: 'Silence alerts for planned maintenance' },
  { id: 'postgres-failover', title: 'Fail over the Postgres primary and rebuild a replica' },
  { id: 'promote', title: 'Promote to production' },
  { id: 're-embedding', title: 'Re-embed after an embedding-model change' },
  { id: 'replay-dead-letters', title: 'Replay dead-lettered ingestion jobs' },
  { id: 'restore-postgres', title: 'Restore Postgres (RDS point-in-time or snapshot)' },
  { id: 'restore-qdrant', title: 'Restore the Qdrant vector store' },
  { id: 'restore-vault', title: 'Restore Vault' },
  { id: 'rollback', title: 'Roll back an image or a migration' },
  { id: 'scaling', title: 'Scale the service and its nodes' },
  { id: 'sla-load-test', title: 'Run an SLA load test and read its report' },
  { id: 'vault-unseal', title: 'Unseal Vault and manage its recovery keys' },
] as const;
