import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { ClusterHandle } from './cluster';

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type Labels = Record<string, string>;

/** One allowed direction of a policy: the peers and ports (any when omitted). */
export interface PolicyRule {
  peers?: pulumi.Input<Peer>[];
  ports?: { port: number; protocol?: 'TCP' | 'UDP' }[];
}

/** The flows one set of pods in an isolated namespace takes part in. */
export interface PodFlows {
  /** Object name suffix, unique in its namespace. */
  name: string;
  /** The chart's (or the program's) pod labels; `{}` for every pod of the namespace. */
  pods: Labels;
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

/** Pods of a namespace, by the name label the API server sets on every namespace. */
export function podsIn(namespace: pulumi.Input<string>, pods?: Labels): Peer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    ...(pods ? { podSelector: { matchLabels: pods } } : {}),
  };
}

/**
 * Anything, by address. Where a rule needs it (the Kubernetes API, AWS APIs, Alertmanager's
 * receivers) the port is what narrows it.
 */
export const anywhere: Peer = { ipBlock: { cidr: '0.0.0.0/0' } };

/**
 * The Kubernetes API server, for controllers, webhooks' callers and service discovery. On EKS its
 * endpoints are the control plane's cross-account ENIs, which AWS replaces on every control-plane
 * update, and on a dev cluster (kind, k3d) a node or loopback address on 6443: no address is known
 * to the program, so the rule is "TCP 443/6443 to any address". The VPC CIDR would be narrower on
 * EKS but not on dev, and would still include every pod. Only pods that need the API get it.
 */
export const kubernetesApi: PolicyRule = {
  peers: [anywhere],
  ports: [{ port: 443 }, { port: 6443 }],
};

/** Admission webhooks and aggregated APIs are called by the API server, from the same unknown addresses. */
export const fromKubernetesApi = (port: number): PolicyRule => ({
  peers: [anywhere],
  ports: [{ port }],
});

const kubeDns: PolicyRule = {
  peers: [podsIn('kube-system', { 'k8s-app': 'kube-dns' })],
  ports: [
    { port: 53, protocol: 'UDP' },
    { port: 53, protocol: 'TCP' },
  ],
};

/** Pods in any namespace (not addresses outside the cluster). */
export const anyPod: Peer = { namespaceSelector: {} };

export interface IsolatedNamespaceArgs {
  cluster: ClusterHandle;
  namespace: string;
  pods: PodFlows[];
  /** What creates the namespace (a Namespace, or the Helm release that creates it). */
  after: pulumi.Resource[];
}

/**
 * A namespace where nothing flows unless a policy says so: a default deny of ingress and egress for
 * every pod, DNS for every pod, and one policy per set of pods with the flows it needs.
 */
export class IsolatedNamespace extends pulumi.ComponentResource {
  constructor(name: string, args: IsolatedNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:network:IsolatedNamespace', name, {}, opts);
    const { namespace } = args;
    const k8sOpts = { parent: this, provider: args.cluster.provider, dependsOn: args.after };
    const policy = (suffix: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${suffix}`,
        { metadata: { name: suffix, namespace }, spec },
        k8sOpts,
      );
    policy('default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    policy('allow-dns', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [rule(kubeDns, 'to')],
    });
    for (const flows of args.pods) allowFlows(`${name}-${flows.name}`, namespace, flows, k8sOpts);
    this.registerOutputs({});
  }
}

/** The allow policy of one set of pods (in an isolated namespace, or one RagApp isolates). */
export function allowFlows(
  name: string,
  namespace: pulumi.Input<string>,
  flows: PodFlows,
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  return new k8s.networking.v1.NetworkPolicy(
    name,
    {
      metadata: { name: `allow-${flows.name}`, namespace },
      spec: {
        podSelector: { matchLabels: flows.pods },
        policyTypes: [...(flows.ingress ? ['Ingress'] : []), ...(flows.egress ? ['Egress'] : [])],
        ...(flows.ingress ? { ingress: flows.ingress.map((r) => rule(r, 'from')) } : {}),
        ...(flows.egress ? { egress: flows.egress.map((r) => rule(r, 'to')) } : {}),
      },
    },
    opts,
  );
}

function rule(r: PolicyRule, direction: 'from' | 'to') {
  return {
    ...(r.peers ? { [direction]: r.peers } : {}),
    ...(r.ports
      ? { ports: r.ports.map((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port })) }
      : {}),
  };
}
