// Dashboard uids are part of the alert contract: every alert's dashboard_url points at one of
// these, and the consistency test checks the uid exists among the generated dashboards.
export const dashboardUids = {
  onCallHome: 'rag-oncall-home',
  serviceOverview: 'rag-service-overview',
  ragPipeline: 'rag-pipeline',
  slo: 'rag-slo-error-budget',
  datastores: 'rag-datastores',
} as const;

export type DashboardUid = (typeof dashboardUids)[keyof typeof dashboardUids];
