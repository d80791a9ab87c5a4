/** The part of the service's logger use cases need: a failure worth a look that the caller survives. */
export interface UseCaseLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}
