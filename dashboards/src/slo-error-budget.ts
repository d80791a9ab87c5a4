import { burnRatePolicies, sliWindows } from '../../catalog/slo/burn-rate-policy';
import { sliRecordName, sloSeries } from '../../catalog/slo/slo-series';
import { errorBudget, slos } from '../../catalog/slo/slo-definitions';
import { dashboardUids } from '../../catalog/dashboard-uids';
import { ragDashboard, row, statPanel, timeSeriesPanel } from './panel-kit';

// One row per SLO, built from the same SLO list as the rules: remaining budget, burn rate now
// and over the period, and the burn rate of every alerting window against its threshold.
export function sloDashboard() {
  let d = ragDashboard(
    dashboardUids.slo,
    'RAG / SLOs and error budgets',
    'Error budget remaining and burn rate per SLO (30-day period), from the slo:* recording rules.',
  );
  for (const slo of slos) {
    const s = `{slo="${slo.id}"}`;
    const budget = errorBudget(slo);
    const thresholds = burnRatePolicies
      .flatMap((p) => p.pairs.map((w) => `${w.factor}x over ${w.long}/${w.short} (${p.handling})`))
      .join(', ');
    d = d
      .withRow(row(`${slo.title}: ${slo.objective * 100}% over ${slo.periodDays}d`))
      .withPanel(
        statPanel(
          'Error budget remaining',
          'percentunit',
          [{ expr: `${sloSeries.periodErrorBudgetRemaining}${s}` }],
          `Share of the ${slo.periodDays}-day error budget of ${slo.id} not yet spent. ` +
            'Negative: the objective is already missed for this period.',
        ),
      )
      .withPanel(
        statPanel(
          'Burn rate now (5m)',
          'x',
          [{ expr: `${sloSeries.currentBurnRate}${s}` }],
          'How fast the budget burns over the last 5 minutes: 1x spends exactly the budget over ' +
            `${slo.periodDays} days; the page threshold is the highest factor listed below.`,
        ),
      )
      .withPanel(
        statPanel(
          `Burn rate over ${slo.periodDays}d`,
          'x',
          [{ expr: `${sloSeries.periodBurnRate}${s}` }],
          `Average burn rate over the whole ${slo.periodDays}-day period: above 1x the SLO ` +
            'will be missed if nothing changes.',
        ),
      )
      .withPanel(
        statPanel(
          'SLI (good events, 5m)',
          'percentunit',
          [{ expr: `1 - ${sliRecordName('5m')}${s}` }],
          `Share of good events over the last 5 minutes (objective ${slo.objective * 100}%).`,
        ),
      )
      .withPanel(
        timeSeriesPanel(
          'Burn rate by window',
          'x',
          sliWindows().map((w) => ({ expr: `${sliRecordName(w)}${s} / ${budget}`, legend: w })),
          `${slo.description} Alert thresholds: ${thresholds}.`,
        ).span(24),
      );
  }
  return d;
}
