import type { ResourceValidationArgs, ResourceValidationPolicy } from '@pulumi/policy';

export interface Violation {
  policy: string;
  resource: string;
  message: string;
}

/**
 * Runs resource policies the way the policy engine calls them, without the engine: the same
 * validateResource functions, arguments built from a resource's type and properties.
 */
export function runPolicies(
  policies: ResourceValidationPolicy[],
  resource: { type: string; name: string; props: Record<string, unknown> },
  config: Record<string, Record<string, unknown>> = {},
): Violation[] {
  const violations: Violation[] = [];
  for (const policy of policies) {
    const args = {
      type: resource.type,
      props: resource.props,
      urn: `urn:pulumi:test::rag-platform::${resource.type}::${resource.name}`,
      name: resource.name,
      opts: {},
      isType: (cls: { __pulumiType?: string }) => cls.__pulumiType === resource.type,
      asType: () => resource.props,
      getConfig: () => config[policy.name] ?? {},
      notApplicable: () => {
        throw new Error('not applicable');
      },
    } as unknown as ResourceValidationArgs;
    const validate = policy.validateResource;
    const fns = Array.isArray(validate) ? validate : validate ? [validate] : [];
    for (const fn of fns) {
      fn(args, (message) =>
        violations.push({ policy: policy.name, resource: resource.name, message }),
      );
    }
  }
  return violations;
}
