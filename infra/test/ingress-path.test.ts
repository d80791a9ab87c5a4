import assert from 'node:assert/strict';
import { serviceIdentity } from '../../catalog/service-identity';
import { subnetCidr } from '../components/network';
import { runStack, type StackRun } from './support/stack-under-mocks';

// The AWS stacks' public path: a maintained controller (the AWS Load Balancer Controller, not the
// retired ingress-nginx), HTTPS only (HTTP answers with a redirect), and a client address that
// only the load balancer can set.

for (const stackName of ['staging', 'production'] as const) {
  describe(`infra ingress path (${stackName})`, function () {
    this.timeout(60_000);
    let run: StackRun;
    before(async () => {
      run = await runStack(stackName);
    });
    const ingress = () => {
      const found = run
        .ofType('kubernetes:networking.k8s.io/v1:Ingress')
        .find((i) => i.inputs.metadata.name === serviceIdentity.service);
      assert.ok(found, 'no Ingress for the service');
      return found.inputs;
    };

    it('installs the AWS Load Balancer Controller with its own IRSA role, and no ingress-nginx', () => {
      const releases = run.ofType('kubernetes:helm.sh/v3:Release');
      assert.deepEqual(
        releases.filter((r) => /ingress-nginx/.test(r.inputs.chart)).map((r) => r.name),
        [],
      );
      const lbc = releases.find((r) => r.inputs.chart === 'aws-load-balancer-controller');
      assert.ok(lbc);
      const roleArn = lbc.inputs.values.serviceAccount.annotations['eks.amazonaws.com/role-arn'];
      const role = run.ofType('aws:iam/role:Role').find((r) => roleArn.endsWith(`:${r.name}`));
      assert.ok(role, 'the controller role is not one the program declares');
      assert.match(
        role.inputs.assumeRolePolicy,
        new RegExp(`system:serviceaccount:kube-system:${lbc.inputs.values.serviceAccount.name}`),
      );
      assert.equal(ingress().spec.ingressClassName, lbc.inputs.values.ingressClass);
    });

    it('serves HTTPS with the stack certificate and redirects HTTP to it', () => {
      const a = ingress().metadata.annotations;
      assert.equal(
        a['alb.ingress.kubernetes.io/certificate-arn'],
        run.config.app.tlsCertificateArn,
      );
      assert.deepEqual(JSON.parse(a['alb.ingress.kubernetes.io/listen-ports']), [
        { HTTP: 80 },
        { HTTPS: 443 },
      ]);
      assert.equal(a['alb.ingress.kubernetes.io/ssl-redirect'], '443');
      assert.match(a['alb.ingress.kubernetes.io/ssl-policy'], /TLS13/);
    });

    it('takes client addresses only from the load balancer', () => {
      const attributes = ingress().metadata.annotations[
        'alb.ingress.kubernetes.io/load-balancer-attributes'
      ] as string;
      // replace: the ALB discards any X-Forwarded-For the client sent and writes its own.
      assert.match(attributes, /routing\.http\.xff_header_processing\.mode=replace/);
      // And nothing but the ALB's subnets (and Prometheus) reaches the API pods to send one.
      const policy = run
        .ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy')
        .find((p) => p.inputs.metadata.name === `${serviceIdentity.service}-ingress`)!;
      const network = run.config.environment !== 'dev' ? run.config.network : undefined;
      assert.ok(network);
      const publicSubnets = network.availabilityZones.map((_, i) => subnetCidr(network.vpcCidr, i));
      const sources = policy.inputs.spec.ingress.flatMap(
        (rule: { from: { ipBlock?: { cidr: string }; namespaceSelector?: unknown }[] }) =>
          rule.from,
      );
      const cidrs = sources.filter((s: { ipBlock?: unknown }) => s.ipBlock);
      assert.ok(cidrs.length > 0);
      for (const s of cidrs) assert.ok(publicSubnets.includes(s.ipBlock.cidr), s.ipBlock.cidr);
      const namespaces = sources
        .filter((s: { namespaceSelector?: unknown }) => s.namespaceSelector)
        .map(
          (s: { namespaceSelector: { matchLabels: Record<string, string> } }) =>
            s.namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
        );
      // Prometheus appears once per port it scrapes (the internal port's own rule).
      assert.deepEqual([...new Set(namespaces)], ['monitoring']);
    });
  });
}
