// Where the service runs and who owns it: the labels every alert carries and the addresses its
// links point at. infra/ imports these names for what it deploys (namespace, Deployment, Service,
// HPA, ServiceMonitor), and its tests fail when the two sides drift.

export const serviceIdentity = {
  service: 'rag-api',
  team: 'rag-platform',
  namespace: 'rag',
  /**
   * Prometheus `job` of the ServiceMonitor scraping the API pods: prometheus-operator sets it to
   * the scraped Service's name, so infra names the Service this.
   */
  job: 'rag-api',
  /**
   * The API workload: its Deployment (the pod template), the Argo Rollout running it as a canary
   * and their HorizontalPodAutoscaler all carry this name.
   */
  deployment: 'rag-api',
  /** The ingestion workers' Deployment (and its KEDA ScaledObject): PROCESS_ROLE=worker pods. */
  ingestWorker: 'rag-ingest-worker',
  /** The pods' ServiceAccount: Vault's Kubernetes auth role is bound to it. */
  serviceAccount: 'rag-api',
} as const;

/** Grafana as exposed by the kube-prometheus-stack ingress. */
export const grafanaBaseUrl = 'https://grafana.rag.internal';
/** Runbooks are read where they are reviewed: in the repository. */
export const repositoryBlobUrl = 'https://github.com/rag-platform/rag-platform/blob/main';

/** GitHub's heading anchor for a Markdown heading. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');
}

/** Runbook file of an alert, relative to the repository root. */
export function runbookPath(alert: string): string {
  return `runbooks/alerts/${alert}.md`;
}

export function runbookUrl(alert: string): string {
  return `${repositoryBlobUrl}/${runbookPath(alert)}#${headingAnchor(alert)}`;
}

export function dashboardUrl(uid: string): string {
  return `${grafanaBaseUrl}/d/${uid}`;
}
