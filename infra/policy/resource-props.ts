/**
 * Resource properties as the policy engine hands them over: untyped JSON whose shape depends on the
 * resource type. Policies read them defensively (optional chaining), so `any` is confined here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResourceProps = Record<string, any>;
