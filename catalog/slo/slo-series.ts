// Names of the SLO series the recording rules produce (Sloth's naming) and dashboards read, so a
// rename in the rules cannot leave a panel querying a series nobody records.

/** The SLI error ratio over one window. */
export const sliRecordName = (window: string) => `slo:sli_error:ratio_rate${window}`;

/** Per-SLO series (label `slo`), recorded by alerts/ and read by dashboards/. */
export const sloSeries = {
  objective: 'slo:objective:ratio',
  errorBudget: 'slo:error_budget:ratio',
  periodDays: 'slo:time_period:days',
  currentBurnRate: 'slo:current_burn_rate:ratio',
  periodBurnRate: 'slo:period_burn_rate:ratio',
  periodErrorBudgetRemaining: 'slo:period_error_budget_remaining:ratio',
} as const;
