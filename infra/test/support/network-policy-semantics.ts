/**
 * Kubernetes NetworkPolicy semantics (networking.k8s.io/v1), for asserting what the policies the
 * program declares allow: a connection goes through when the source's egress and the
 * destination's ingress both allow it. A pod is isolated for a direction once any policy of that
 * type selects it; then only the union of those policies' rules allows traffic. Addresses outside
 * the cluster (the API server's ENIs, RDS, the internet) have no policies of their own.
 */

export type Labels = Readonly<Record<string, string>>;

export interface PodEndpoint {
  kind: 'pod';
  namespace: string;
  labels: Labels;
  ip: string;
}
export interface AddressEndpoint {
  kind: 'address';
  ip: string;
}
export type Endpoint = PodEndpoint | AddressEndpoint;

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}
export interface Policy {
  metadata: { name?: string; namespace: string };
  spec: {
    podSelector?: LabelSelector;
    policyTypes?: string[];
    ingress?: Rule[];
    egress?: Rule[];
  };
}

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol?: 'TCP' | 'UDP';
}

export function selectorMatches(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  const exact = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    exact &&
    (selector.matchExpressions ?? []).every((e) => {
      const has = e.key in labels;
      switch (e.operator) {
        case 'In':
          return has && (e.values ?? []).includes(labels[e.key]);
        case 'NotIn':
          return !has || !(e.values ?? []).includes(labels[e.key]);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          throw new Error(`unknown selector operator ${e.operator}`);
      }
    })
  );
}

function ipv4(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + p, 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4(base) / size) * size;
  const n = ipv4(ip);
  return n >= start && n < start + size;
}

/** An address inside a CIDR, `offset` from its start. */
export function addressIn(cidr: string, offset: number): string {
  const [base] = cidr.split('/');
  const n = ipv4(base) + offset;
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export class NetworkPolicies {
  constructor(
    private readonly policies: readonly Policy[],
    /** Labels of the namespaces declared with labels; every namespace has its name label. */
    private readonly namespaceLabels: (namespace: string) => Labels,
  ) {}

  allows(c: Connection): boolean {
    return this.side(c.from, c.to, c, 'Egress') && this.side(c.to, c.from, c, 'Ingress');
  }

  /** The policies that make a pod isolated for one direction. */
  isolating(pod: PodEndpoint, type: 'Ingress' | 'Egress'): Policy[] {
    return this.policies.filter(
      (p) =>
        p.metadata.namespace === pod.namespace &&
        selectorMatches(p.spec.podSelector ?? {}, pod.labels) &&
        policyTypes(p).includes(type),
    );
  }

  private side(self: Endpoint, peer: Endpoint, c: Connection, type: 'Ingress' | 'Egress'): boolean {
    if (self.kind !== 'pod') return true;
    const isolating = this.isolating(self, type);
    if (isolating.length === 0) return true;
    return isolating.some((p) =>
      ((type === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).some(
        (rule) =>
          this.peersMatch(type === 'Ingress' ? rule.from : rule.to, peer, p.metadata.namespace) &&
          portsMatch(rule.ports, c.port, c.protocol ?? 'TCP'),
      ),
    );
  }

  private peersMatch(peers: Peer[] | undefined, ep: Endpoint, policyNamespace: string): boolean {
    if (!peers || peers.length === 0) return true;
    return peers.some((peer) => {
      if (peer.ipBlock) {
        // Whether an ipBlock also matches pod addresses is up to the implementation (the VPC CNI's
        // agent does match them): match by address for every endpoint, the permissive reading,
        // so a flow asserted denied is denied under either reading.
        const { cidr, except = [] } = peer.ipBlock;
        return inCidr(ep.ip, cidr) && !except.some((e) => inCidr(ep.ip, e));
      }
      if (ep.kind !== 'pod') return false;
      const namespaceOk = peer.namespaceSelector
        ? selectorMatches(peer.namespaceSelector, this.namespaceLabels(ep.namespace))
        : ep.namespace === policyNamespace;
      return namespaceOk && selectorMatches(peer.podSelector, ep.labels);
    });
  }
}

/** Without policyTypes: Ingress always, Egress when the policy has egress rules. */
function policyTypes(p: Policy): string[] {
  return p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

function portsMatch(ports: PolicyPort[] | undefined, port: number, protocol: string): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string')
      throw new Error(`named port ${p.port}: give the flows' pods named ports before using one`);
    return p.endPort === undefined ? port === p.port : port >= p.port && port <= p.endPort;
  });
}

/** A policy that selects every pod of its namespace for both directions and allows nothing. */
export function isDefaultDeny(p: Policy): boolean {
  const selector = p.spec.podSelector ?? {};
  const everyPod =
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0;
  const types = policyTypes(p);
  return (
    everyPod &&
    types.includes('Ingress') &&
    types.includes('Egress') &&
    (p.spec.ingress ?? []).length === 0 &&
    (p.spec.egress ?? []).length === 0
  );
}
