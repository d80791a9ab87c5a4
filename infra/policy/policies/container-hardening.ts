import type { ResourceValidationPolicy } from '@pulumi/policy';
import { allContainers, workloadOf } from '../workload-containers';

/** Every container has limits, runs as non-root, and long-running ones are probed. */
export const containerHardening: ResourceValidationPolicy = {
  name: 'container-hardening',
  description:
    'Every container sets CPU and memory limits and runs as non-root; long-running containers have readiness and liveness probes.',
  validateResource: (args, reportViolation) => {
    const workload = workloadOf(args.type, args.props);
    if (!workload) return;
    const podNonRoot = workload.podSpec.securityContext?.runAsNonRoot === true;
    for (const c of allContainers(workload.podSpec)) {
      const name = c.name ?? '(unnamed)';
      if (!c.resources?.limits?.cpu || !c.resources?.limits?.memory)
        reportViolation(`container ${name} must set cpu and memory limits.`);
      if (!(c.securityContext?.runAsNonRoot ?? podNonRoot))
        reportViolation(`container ${name} must run as non-root (runAsNonRoot: true).`);
      if (c.securityContext?.allowPrivilegeEscalation !== false)
        reportViolation(`container ${name} must set allowPrivilegeEscalation: false.`);
    }
    if (workload.runsToCompletion) return;
    for (const c of workload.podSpec.containers ?? []) {
      if (!c.readinessProbe || !c.livenessProbe)
        reportViolation(
          `container ${c.name ?? '(unnamed)'} must have readiness and liveness probes.`,
        );
    }
  },
};
