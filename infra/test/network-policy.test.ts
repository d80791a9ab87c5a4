import assert from 'node:assert/strict';
import { serviceIdentity } from '../../catalog/service-identity';
import { subnetCidr } from '../components/network';
import {
  addressIn,
  isDefaultDeny,
  NetworkPolicies,
  type AddressEndpoint,
  type Connection,
  type Endpoint,
  type Labels,
  type Policy,
  type PodEndpoint,
} from './support/network-policy-semantics';
import {
  runStack,
  stacks,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

// Issue 8, point 11: every namespace the program puts anything in is default-deny for ingress and
// egress, and the flows the platform needs (and only those) go through, under NetworkPolicy's own
// semantics. Pods of the program's own workloads carry the labels captured from their templates;
// chart pods carry the labels the charts (at the pinned versions) render, written out here, so a
// policy selecting a label the chart does not set fails a flow below.

/**
 * Namespaces the program uses but does not own: kube-system holds the cluster's own pods (CoreDNS,
 * the VPC CNI, kube-proxy) next to metrics-server, Karpenter and the load balancer controller, and a
 * namespace-wide deny there would cut DNS for the whole cluster.
 */
const notOwned = new Set(['kube-system']);

const policyType = 'kubernetes:networking.k8s.io/v1:NetworkPolicy';
const namespaceType = 'kubernetes:core/v1:Namespace';
const releaseType = 'kubernetes:helm.sh/v3:Release';

/** Every namespace a resource declares, creates, or installs a Helm release into. */
export function declaredNamespaces(resources: readonly CapturedResource[]): string[] {
  const names = new Set<string>();
  for (const r of resources) {
    if (!r.type.startsWith('kubernetes:')) continue;
    if (r.type === namespaceType) names.add(r.inputs.metadata.name);
    else if (r.type === releaseType) names.add(r.inputs.namespace ?? 'default');
    else if (r.inputs.metadata?.namespace) names.add(r.inputs.metadata.namespace);
  }
  return [...names].sort();
}

/** Namespaces the program owns that no default-deny policy covers. */
export function withoutDefaultDeny(resources: readonly CapturedResource[]): string[] {
  const policies = resources.filter((r) => r.type === policyType).map((r) => r.inputs as Policy);
  return declaredNamespaces(resources).filter(
    (ns) =>
      !notOwned.has(ns) && !policies.some((p) => p.metadata.namespace === ns && isDefaultDeny(p)),
  );
}

describe('namespace coverage check', () => {
  const resource = (type: string, inputs: Record<string, any>): CapturedResource => ({
    type,
    name: 'x',
    inputs,
    dependencies: [],
    protect: false,
    retainOnDelete: false,
  });
  const deny = (namespace: string, spec: Record<string, unknown>) =>
    resource(policyType, { metadata: { name: 'd', namespace }, spec });

  it('flags a namespace a Helm release creates and no policy covers', () => {
    const resources = [
      resource(releaseType, { namespace: 'logging', createNamespace: true }),
      resource(namespaceType, { metadata: { name: 'rag' } }),
      deny('rag', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    ];
    assert.deepEqual(withoutDefaultDeny(resources), ['logging']);
  });

  it('does not count a policy that selects some pods, misses a direction or allows anything', () => {
    for (const spec of [
      { podSelector: { matchLabels: { a: 'b' } }, policyTypes: ['Ingress', 'Egress'] },
      { podSelector: {}, policyTypes: ['Ingress'] },
      { podSelector: {}, policyTypes: ['Ingress', 'Egress'], egress: [{}] },
    ]) {
      const resources = [resource(namespaceType, { metadata: { name: 'rag' } }), deny('rag', spec)];
      assert.deepEqual(withoutDefaultDeny(resources), ['rag'], JSON.stringify(spec));
    }
  });
});

describe('NetworkPolicy semantics', () => {
  const pod = (namespace: string, labels: Labels, ip: string): PodEndpoint => ({
    kind: 'pod',
    namespace,
    labels,
    ip,
  });
  const a = pod('a', { app: 'x' }, '10.0.0.1');
  const b = pod('b', { app: 'y' }, '10.0.0.2');
  const policies = (...ps: Policy[]) =>
    new NetworkPolicies(ps, (ns) => ({ 'kubernetes.io/metadata.name': ns }));
  const denyAll = (namespace: string): Policy => ({
    metadata: { namespace },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  });

  it('allows everything where no policy selects the pods', () => {
    assert.ok(policies().allows({ from: a, to: b, port: 1 }));
  });

  it('reads a podSelector-only peer as the policy namespace, not the peer pod namespace', () => {
    const allowFromApp: Policy = {
      metadata: { namespace: 'b' },
      spec: {
        podSelector: {},
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'x' } } }] }],
      },
    };
    assert.equal(policies(allowFromApp).allows({ from: a, to: b, port: 1 }), false);
  });

  it('needs both the egress and the ingress side, on the right port and protocol', () => {
    const egress: Policy = {
      metadata: { namespace: 'a' },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 5432 }] }],
      },
    };
    const ingress: Policy = {
      metadata: { namespace: 'b' },
      spec: {
        podSelector: { matchLabels: { app: 'y' } },
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } },
                podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] },
              },
            ],
            ports: [{ port: 5400, endPort: 5500 }],
          },
        ],
      },
    };
    const all = policies(denyAll('a'), denyAll('b'), egress, ingress);
    assert.ok(all.allows({ from: a, to: b, port: 5432 }));
    assert.equal(all.allows({ from: a, to: b, port: 5432, protocol: 'UDP' }), false);
    assert.equal(all.allows({ from: a, to: b, port: 5433 }), false);
    assert.equal(
      policies(denyAll('a'), denyAll('b'), ingress).allows({ from: a, to: b, port: 5432 }),
      false,
    );
    assert.equal(
      policies(denyAll('a'), denyAll('b'), egress).allows({ from: a, to: b, port: 5432 }),
      false,
    );
  });

  it('matches ipBlocks by address, excepted ranges excluded', () => {
    const out: AddressEndpoint = { kind: 'address', ip: '34.1.2.3' };
    const egress = (except: string[]): Policy => ({
      metadata: { namespace: 'a' },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except } }], ports: [{ port: 443 }] }],
      },
    });
    assert.ok(policies(denyAll('a'), egress([])).allows({ from: a, to: out, port: 443 }));
    assert.equal(
      policies(denyAll('a'), egress(['34.0.0.0/8'])).allows({ from: a, to: out, port: 443 }),
      false,
    );
  });
});

/** The pods, data stores and outside addresses of one stack, with the labels they really carry. */
function platformOf(run: StackRun) {
  const aws = 'network' in run.config;
  const vpcCidr = aws ? (run.config as { network: { vpcCidr: string } }).network.vpcCidr : '';
  // The VPC CNI gives pods VPC addresses; kind's default pod range on dev.
  const podRange = aws ? vpcCidr : '10.244.0.0/16';
  let next = 10;
  const pod = (namespace: string, labels: Labels): PodEndpoint => ({
    kind: 'pod',
    namespace,
    labels,
    ip: addressIn(podRange, next++),
  });
  const address = (ip: string): AddressEndpoint => ({ kind: 'address', ip });
  const templateLabels = (
    type: string,
    namespace: string,
    pick: (r: CapturedResource) => boolean,
  ) => {
    const found = run
      .ofType(`kubernetes:${type}`)
      .filter((r) => r.inputs.metadata?.namespace === namespace && pick(r));
    assert.equal(found.length, 1, `one ${type} in ${namespace}`);
    return found[0].inputs.spec.template.metadata.labels as Labels;
  };
  const named = (name: string) => (r: CapturedResource) => r.inputs.metadata?.name === name;
  const deployment = (namespace: string, name: string) =>
    pod(namespace, templateLabels('apps/v1:Deployment', namespace, named(name)));
  const { namespace: rag } = serviceIdentity;

  const postgresExporters = run
    .ofType('kubernetes:apps/v1:Deployment')
    .filter((r) => /^postgres-exporter-/.test(r.inputs.metadata.name))
    .map((r) => deployment('monitoring', r.inputs.metadata.name));
  assert.ok(postgresExporters.length > 0);

  const cnpgInstance = (role: string) =>
    pod(rag, {
      'cnpg.io/cluster': 'rag-pg',
      'cnpg.io/instanceRole': role,
      'cnpg.io/podRole': 'instance',
    });
  const postgres: Endpoint = aws ? address(addressIn(vpcCidr, 6000)) : cnpgInstance('primary');
  const redis: Endpoint = aws
    ? address(addressIn(vpcCidr, 6001))
    : pod(rag, templateLabels('apps/v1:StatefulSet', rag, named('redis')));

  return {
    aws,
    api: deployment(rag, serviceIdentity.deployment),
    worker: deployment(rag, serviceIdentity.ingestWorker),
    migrate: pod(
      rag,
      templateLabels(
        'batch/v1:Job',
        rag,
        (r) => r.inputs.spec.template.metadata.labels['app.kubernetes.io/component'] === 'migrate',
      ),
    ),
    postgres,
    postgresReplica: aws ? address(addressIn(vpcCidr, 6002)) : cnpgInstance('replica'),
    redis,
    kubeDns: pod('kube-system', {
      'k8s-app': 'kube-dns',
      'eks.amazonaws.com/component': 'coredns',
    }),
    // EKS: the control plane's ENIs in the cluster's subnets; kind: the control-plane node on 6443.
    apiServer: aws ? address(addressIn(vpcCidr, 5000)) : address('172.18.0.2'),
    apiPort: aws ? 443 : 6443,
    node: aws ? address(addressIn(vpcCidr, 7000)) : address('172.18.0.3'),
    internet: address('34.120.1.10'),
    // The ALB's nodes in a public subnet (target type ip) on AWS; ingress-nginx on dev.
    ingress: aws
      ? address(addressIn(subnetCidr(vpcCidr, 0), 20))
      : pod('ingress-nginx', {
          'app.kubernetes.io/name': 'ingress-nginx',
          'app.kubernetes.io/instance': 'ingress-nginx',
          'app.kubernetes.io/component': 'controller',
        }),
    prometheus: pod('monitoring', {
      'app.kubernetes.io/name': 'prometheus',
      'app.kubernetes.io/instance': 'kube-prometheus-stack-prometheus',
      'app.kubernetes.io/managed-by': 'prometheus-operator',
      'operator.prometheus.io/name': 'kube-prometheus-stack-prometheus',
      prometheus: 'kube-prometheus-stack-prometheus',
    }),
    alertmanager: pod('monitoring', {
      'app.kubernetes.io/name': 'alertmanager',
      'app.kubernetes.io/instance': 'kube-prometheus-stack-alertmanager',
      'app.kubernetes.io/managed-by': 'prometheus-operator',
      alertmanager: 'kube-prometheus-stack-alertmanager',
    }),
    alertmanagerPeer: pod('monitoring', {
      'app.kubernetes.io/name': 'alertmanager',
      'app.kubernetes.io/instance': 'kube-prometheus-stack-alertmanager',
      alertmanager: 'kube-prometheus-stack-alertmanager',
    }),
    grafana: pod('monitoring', {
      'app.kubernetes.io/name': 'grafana',
      'app.kubernetes.io/instance': 'kube-prometheus-stack',
    }),
    loki: pod('monitoring', {
      'app.kubernetes.io/name': 'loki',
      'app.kubernetes.io/instance': 'loki',
      'app.kubernetes.io/component': 'single-binary',
    }),
    tempo: pod('monitoring', {
      'app.kubernetes.io/name': 'tempo',
      'app.kubernetes.io/instance': 'tempo',
    }),
    alloy: pod('monitoring', {
      'app.kubernetes.io/name': 'alloy',
      'app.kubernetes.io/instance': 'alloy',
    }),
    prometheusOperator: pod('monitoring', {
      app: 'kube-prometheus-stack-operator',
      'app.kubernetes.io/name': 'kube-prometheus-stack-prometheus-operator',
      'app.kubernetes.io/component': 'prometheus-operator',
      release: 'kube-prometheus-stack',
    }),
    kubeStateMetrics: pod('monitoring', {
      'app.kubernetes.io/name': 'kube-state-metrics',
      'app.kubernetes.io/instance': 'kube-prometheus-stack',
    }),
    postgresExporters,
    redisExporter: deployment('monitoring', 'redis-exporter'),
    blackboxExporter: deployment('monitoring', 'blackbox-exporter'),
    vault: pod('vault', {
      'app.kubernetes.io/name': 'vault',
      'app.kubernetes.io/instance': 'vault',
      component: 'server',
    }),
    vaultPeer: pod('vault', {
      'app.kubernetes.io/name': 'vault',
      'app.kubernetes.io/instance': 'vault',
      component: 'server',
    }),
    vaultInjector: pod('vault', {
      'app.kubernetes.io/name': 'vault-agent-injector',
      'app.kubernetes.io/instance': 'vault',
      component: 'webhook',
    }),
    // The raft snapshot CronJob (AWS stacks), by its pod template's labels.
    vaultSnapshot: aws
      ? pod(
          'backups',
          run
            .ofType('kubernetes:batch/v1:CronJob')
            .find((c) => c.inputs.metadata.name === 'vault-snapshot')!.inputs.spec.jobTemplate.spec
            .template.metadata.labels as Labels,
        )
      : undefined,
    // cert-manager v1.19.1's Deployments (templates/*deployment.yaml pod labels).
    certManager: pod('cert-manager', {
      app: 'cert-manager',
      'app.kubernetes.io/name': 'cert-manager',
      'app.kubernetes.io/instance': 'cert-manager',
      'app.kubernetes.io/component': 'controller',
    }),
    certManagerWebhook: pod('cert-manager', {
      app: 'webhook',
      'app.kubernetes.io/name': 'webhook',
      'app.kubernetes.io/instance': 'cert-manager',
      'app.kubernetes.io/component': 'webhook',
    }),
    certManagerCainjector: pod('cert-manager', {
      app: 'cainjector',
      'app.kubernetes.io/name': 'cainjector',
      'app.kubernetes.io/instance': 'cert-manager',
      'app.kubernetes.io/component': 'cainjector',
    }),
    qdrant: pod('qdrant', {
      app: 'qdrant',
      'app.kubernetes.io/name': 'qdrant',
      'app.kubernetes.io/instance': 'qdrant',
    }),
    qdrantPeer: pod('qdrant', {
      app: 'qdrant',
      'app.kubernetes.io/name': 'qdrant',
      'app.kubernetes.io/instance': 'qdrant',
    }),
    argoRollouts: pod('argo-rollouts', {
      'app.kubernetes.io/name': 'argo-rollouts',
      'app.kubernetes.io/component': 'rollouts-controller',
      'app.kubernetes.io/instance': 'argo-rollouts',
    }),
    kedaOperator: pod('keda', {
      app: 'keda-operator',
      name: 'keda-operator',
      'app.kubernetes.io/name': 'keda-operator',
    }),
    kedaMetricsApiServer: pod('keda', {
      app: 'keda-operator-metrics-apiserver',
      'app.kubernetes.io/name': 'keda-operator-metrics-apiserver',
    }),
    kedaWebhooks: pod('keda', {
      app: 'keda-admission-webhooks',
      name: 'keda-admission-webhooks',
      'app.kubernetes.io/name': 'keda-admission-webhooks',
    }),
    cnpgOperator: pod('cnpg-system', {
      'app.kubernetes.io/name': 'cloudnative-pg',
      'app.kubernetes.io/instance': 'postgres-operator',
    }),
  };
}

type Platform = ReturnType<typeof platformOf>;
type Flow = [string, Connection];

function describeEndpoint(e: Endpoint): string {
  return e.kind === 'pod'
    ? `${e.namespace}/${e.labels['app.kubernetes.io/name'] ?? JSON.stringify(e.labels)}`
    : e.ip;
}

function neededFlows(p: Platform): Flow[] {
  const tcp = (from: Endpoint, to: Endpoint, port: number): Flow => [
    `${describeEndpoint(from)} -> ${describeEndpoint(to)}:${port}`,
    { from, to, port },
  ];
  const udp = (from: Endpoint, to: Endpoint, port: number): Flow => [
    `${describeEndpoint(from)} -> ${describeEndpoint(to)}:${port}/udp`,
    { from, to, port, protocol: 'UDP' },
  ];
  const api = (from: Endpoint) => tcp(from, p.apiServer, p.apiPort);
  const fromApi = (to: Endpoint, port: number) => tcp(p.apiServer, to, port);
  const everyPod = [
    p.api,
    p.worker,
    p.migrate,
    p.prometheus,
    p.alertmanager,
    p.grafana,
    p.loki,
    p.tempo,
    p.alloy,
    p.prometheusOperator,
    p.kubeStateMetrics,
    ...p.postgresExporters,
    p.redisExporter,
    p.blackboxExporter,
    p.vault,
    p.vaultInjector,
    p.certManager,
    p.certManagerWebhook,
    p.certManagerCainjector,
    p.qdrant,
    p.argoRollouts,
    p.kedaOperator,
    p.kedaMetricsApiServer,
    p.kedaWebhooks,
    ...(p.aws ? [] : [p.cnpgOperator]),
  ];
  const flows: Flow[] = [
    ...everyPod.map((pod) => udp(pod, p.kubeDns, 53)),
    // The service and its data stores; Vault Agent in every pod of the service.
    ...[p.api, p.worker].flatMap((app) => [
      tcp(app, p.postgres, 5432),
      tcp(app, p.postgresReplica, 5432),
      tcp(app, p.redis, 6379),
      tcp(app, p.qdrant, 6333),
      tcp(app, p.vault, 8200),
    ]),
    tcp(p.migrate, p.postgres, 5432),
    tcp(p.migrate, p.vault, 8200),
    tcp(p.ingress, p.api, 8080),
    tcp(p.ingress, p.grafana, 3000),
    // Scraping.
    // The service's metrics live on its internal port (INTERNAL_PORT), never on the public one.
    tcp(p.prometheus, p.api, 9090),
    tcp(p.prometheus, p.qdrant, 6333),
    tcp(p.prometheus, p.vault, 8200),
    tcp(p.prometheus, p.argoRollouts, 8090),
    tcp(p.prometheus, p.kubeStateMetrics, 8080),
    tcp(p.prometheus, p.prometheusOperator, 10250),
    tcp(p.prometheus, p.grafana, 3000),
    tcp(p.prometheus, p.alertmanager, 9093),
    tcp(p.prometheus, p.node, 10250),
    tcp(p.prometheus, p.node, 9100),
    ...p.postgresExporters.map((e) => tcp(p.prometheus, e, 9187)),
    tcp(p.prometheus, p.redisExporter, 9121),
    tcp(p.prometheus, p.blackboxExporter, 9115),
    api(p.prometheus),
    // Exporters to what they watch.
    ...p.postgresExporters.map((e) => tcp(e, p.postgres, 5432)),
    tcp(p.redisExporter, p.redis, 6379),
    tcp(p.blackboxExporter, p.internet, 443),
    // Grafana and Alertmanager.
    tcp(p.grafana, p.prometheus, 9090),
    tcp(p.grafana, p.alertmanager, 9093),
    api(p.grafana),
    // Logs and traces: the collector and the service write, Grafana reads, Prometheus scrapes.
    tcp(p.alloy, p.loki, 3100),
    tcp(p.grafana, p.loki, 3100),
    tcp(p.prometheus, p.loki, 3100),
    tcp(p.api, p.tempo, 4318),
    tcp(p.worker, p.tempo, 4318),
    tcp(p.grafana, p.tempo, 3200),
    tcp(p.prometheus, p.tempo, 3200),
    tcp(p.alertmanager, p.internet, 443),
    tcp(p.alertmanager, p.internet, 587),
    tcp(p.alertmanager, p.alertmanagerPeer, 9094),
    udp(p.alertmanager, p.alertmanagerPeer, 9094),
    // Operators and webhooks.
    api(p.prometheusOperator),
    fromApi(p.prometheusOperator, 10250),
    api(p.kubeStateMetrics),
    api(p.argoRollouts),
    tcp(p.argoRollouts, p.prometheus, 9090),
    api(p.kedaOperator),
    api(p.kedaMetricsApiServer),
    tcp(p.kedaOperator, p.prometheus, 9090),
    tcp(p.kedaMetricsApiServer, p.kedaOperator, 9666),
    fromApi(p.kedaMetricsApiServer, 6443),
    fromApi(p.kedaWebhooks, 9443),
    // Vault: servers, injector, its clients beyond the service.
    api(p.vault),
    // The database secrets engine creates and drops the service's users.
    tcp(p.vault, p.postgres, 5432),
    ...(p.vaultSnapshot ? [tcp(p.vaultSnapshot, p.vault, 8200)] : []),
    tcp(p.vault, p.internet, 443),
    tcp(p.vault, p.vaultPeer, 8201),
    tcp(p.vault, p.vaultPeer, 8200),
    fromApi(p.vaultInjector, 8080),
    api(p.vaultInjector),
    // cert-manager: every part watches the API server, which calls the webhook.
    api(p.certManager),
    api(p.certManagerCainjector),
    api(p.certManagerWebhook),
    fromApi(p.certManagerWebhook, 10250),
    tcp(p.qdrant, p.qdrantPeer, 6335),
  ];
  if (!p.aws) {
    flows.push(
      api(p.cnpgOperator),
      fromApi(p.cnpgOperator, 9443),
      tcp(p.cnpgOperator, p.postgres, 8000),
      api(p.postgres),
      tcp(p.postgresReplica, p.postgres, 5432),
      tcp(p.prometheus, p.postgres, 9187),
    );
  }
  return flows;
}

function forbiddenFlows(p: Platform): Flow[] {
  const tcp = (from: Endpoint, to: Endpoint, port: number): Flow => [
    `${describeEndpoint(from)} -> ${describeEndpoint(to)}:${port}`,
    { from, to, port },
  ];
  return [
    // Raft and request forwarding are between Vault servers only.
    tcp(p.api, p.vault, 8201),
    // Nothing in monitoring reaches Postgres but its exporters.
    tcp(p.prometheus, p.postgres, 5432),
    tcp(p.grafana, p.postgres, 5432),
    tcp(p.alertmanager, p.postgres, 5432),
    tcp(p.redisExporter, p.postgres, 5432),
    // The log store takes pushes from its collector only; the collector reads nothing else.
    tcp(p.api, p.loki, 3100),
    tcp(p.ingress, p.api, 9090),
    tcp(p.alloy, p.postgres, 5432),
    tcp(p.alloy, p.tempo, 3200),
    tcp(p.blackboxExporter, p.postgres, 5432),
    tcp(p.kubeStateMetrics, p.postgres, 5432),
    tcp(p.grafana, p.redis, 6379),
    tcp(p.grafana, p.qdrant, 6333),
    // Qdrant's peer port, KEDA's gRPC and Prometheus are not for the service.
    tcp(p.api, p.qdrant, 6335),
    tcp(p.api, p.kedaOperator, 9666),
    tcp(p.api, p.prometheus, 9090),
    tcp(p.api, p.alertmanager, 9093),
    // No way out to the internet from the service or Qdrant (exfiltration).
    tcp(p.api, p.internet, 443),
    tcp(p.qdrant, p.internet, 443),
    // (Pods that talk to the API server may reach TCP 443 anywhere: see kubernetesApi's reason.)
    // From outside the cluster only the public endpoints.
    tcp(p.internet, p.vault, 8200),
    tcp(p.internet, p.qdrant, 6333),
    tcp(p.internet, p.prometheus, 9090),
    tcp(p.internet, p.alertmanager, 9093),
    tcp(p.ingress, p.prometheus, 9090),
    // Of Vault's pods only the servers reach Postgres; Postgres is no way into Vault's raft.
    tcp(p.vaultInjector, p.postgres, 5432),
    tcp(p.postgres, p.vault, 8201),
    // cert-manager reaches no data store.
    tcp(p.certManager, p.postgres, 5432),
    tcp(p.certManager, p.vault, 8200),
  ];
}

for (const stack of stacks) {
  describe(`NetworkPolicies (${stack})`, function () {
    this.timeout(120_000);
    let run: StackRun;
    let policies: NetworkPolicies;
    let platform: Platform;
    before(async () => {
      run = await runStack(stack);
      const labelsOf = new Map(
        run
          .ofType(namespaceType)
          .map((n) => [n.inputs.metadata.name as string, n.inputs.metadata.labels ?? {}]),
      );
      policies = new NetworkPolicies(
        run.ofType(policyType).map((r) => r.inputs as Policy),
        (ns) => ({ ...(labelsOf.get(ns) ?? {}), 'kubernetes.io/metadata.name': ns }),
      );
      platform = platformOf(run);
    });

    it('makes every namespace the program uses default-deny for ingress and egress', () => {
      const declared = declaredNamespaces(run.resources);
      for (const ns of [
        'rag',
        'monitoring',
        'vault',
        'qdrant',
        'argo-rollouts',
        'keda',
        'cert-manager',
      ])
        assert.ok(declared.includes(ns), `${ns} is among the declared namespaces`);
      assert.deepEqual(withoutDefaultDeny(run.resources), []);
    });

    it('isolates every pod of the platform in both directions', () => {
      const p = platform;
      for (const pod of [
        p.api,
        p.prometheus,
        p.grafana,
        p.vault,
        p.vaultInjector,
        p.qdrant,
        p.argoRollouts,
        p.kedaOperator,
      ])
        for (const type of ['Ingress', 'Egress'] as const)
          assert.ok(policies.isolating(pod, type).length > 0, `${describeEndpoint(pod)} ${type}`);
    });

    it('allows every flow the platform needs', () => {
      const denied = neededFlows(platform)
        .filter(([, c]) => !policies.allows(c))
        .map(([name]) => name);
      assert.deepEqual(denied, []);
    });

    it('denies the flows nothing needs', () => {
      const allowed = forbiddenFlows(platform)
        .filter(([, c]) => policies.allows(c))
        .map(([name]) => name);
      assert.deepEqual(allowed, []);
    });
  });
}
