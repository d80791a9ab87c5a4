// Finds the pod spec inside any Kubernetes workload's properties, so container guardrails apply
// to Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and bare Pods alike.

export interface PodSpecLike {
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  securityContext?: { runAsNonRoot?: boolean };
}

export interface ContainerLike {
  name?: string;
  image?: string;
  resources?: { limits?: Record<string, unknown> };
  securityContext?: { runAsNonRoot?: boolean; allowPrivilegeEscalation?: boolean };
  readinessProbe?: unknown;
  livenessProbe?: unknown;
}

const workloadKinds = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'Pod',
]);

export interface Workload {
  kind: string;
  podSpec: PodSpecLike;
  /** Run-to-completion workloads have no probes to check. */
  runsToCompletion: boolean;
}

/** The workload behind a `kubernetes:<group>/<version>:<Kind>` resource, if it is one. */
export function workloadOf(type: string, props: Record<string, unknown>): Workload | undefined {
  const match = /^kubernetes:[^:]+:(\w+)$/.exec(type);
  if (!match || !workloadKinds.has(match[1])) return undefined;
  const kind = match[1];
  const spec = props.spec as Record<string, unknown> | undefined;
  let podSpec: unknown;
  if (kind === 'Pod') podSpec = spec;
  else if (kind === 'CronJob') podSpec = dig(spec, ['jobTemplate', 'spec', 'template', 'spec']);
  else podSpec = dig(spec, ['template', 'spec']);
  return {
    kind,
    podSpec: (podSpec ?? {}) as PodSpecLike,
    runsToCompletion: kind === 'Job' || kind === 'CronJob',
  };
}

function dig(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>(
    (v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined),
    value,
  );
}

export function allContainers(pod: PodSpecLike): ContainerLike[] {
  return [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
}
