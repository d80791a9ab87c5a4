import type { Severity } from '../../../catalog/alerting/severity';

// The shape every alert and recording rule is declared in before rendering. Alerts carry their
// own promtool scenario so that "every alert has a unit test" is a property of the type, not a
// convention someone can forget.

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** One input series of a promtool test, in promtool's expanding notation. */
export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

/** An expected alert instance at one evaluation time (labels beyond the rule's static ones). */
export interface ExpectedInstance {
  readonly labels: Readonly<Record<string, string>>;
  /** The alert's `$value` at that time, used to render the templated description. */
  readonly value: number;
}

export interface AlertCheck {
  /** Minutes after the start of the input series. */
  readonly atMinute: number;
  readonly firing: readonly ExpectedInstance[];
}

/** A promtool test case: input series and what the alert must do over them. */
export interface AlertScenario {
  readonly name: string;
  readonly inputSeries: readonly InputSeries[];
  readonly checks: readonly AlertCheck[];
}

/**
 * The three scenarios every alert must have. `fires` must contain a check where the alert fires
 * and a later one where it has resolved; `quiet` keeps the signal just on the healthy side of
 * the threshold and must never fire.
 */
export interface AlertTestPlan {
  readonly fires: AlertScenario;
  /** A reason instead of a scenario only for alerts with no threshold (the Watchdog). */
  readonly quiet: AlertScenario | { readonly noThreshold: string };
  /** Further ways the alert fires (one per branch of an `or`), each tested like `fires`. */
  readonly more?: readonly AlertScenario[];
}

export interface AlertDefinition {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: Severity;
  /** Static one-line summary (no templates: it is the notification title). */
  readonly summary: string;
  /** Go-template description; may use `$labels.<name>` and `$value` with the humanize filters. */
  readonly description: string;
  /** Dashboard uid (from dashboards/) the `dashboard_url` points at. */
  readonly dashboardUid: string;
  /** Extra static labels (e.g. `slo`). */
  readonly labels?: Readonly<Record<string, string>>;
  /** The rule group the alert is rendered into (one group per concern). */
  readonly group: string;
  /**
   * Alerts this one mutes while it fires (Alertmanager inhibition): the symptoms a dependency
   * outage causes, so on-call sees the cause and not a page per symptom.
   */
  readonly inhibits?: readonly string[];
  readonly tests: AlertTestPlan;
}
