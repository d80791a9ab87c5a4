import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { serviceIdentity } from '../../catalog/service-identity';
import { albIdleTimeoutSeconds } from '../components/ingress-controller';
import { appContainer, publicPaths } from '../components/rag-app';
import {
  repoRoot,
  runStack,
  stacks,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

/**
 * The API routes the service defines, read from its route modules by path (infra imports nothing
 * of the app): each one is meant for clients, so each must be reachable through the Ingress.
 */
function serviceRoutes(): string[] {
  const dir = path.join(repoRoot, 'app/src/http/routes');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) =>
      [...readFileSync(path.join(dir, f), 'utf8').matchAll(/path: '(\/[^']*)'/g)].map((m) => m[1]),
    );
}

// What the service exposes through each stack: the Ingress publishes the API and its description
// only; Prometheus scrapes the internal port, which no Ingress path and no load-balancer address
// range reaches; the probes and the app's settings agree with the container's ports.

for (const stackName of stacks) {
  describe(`infra app exposure (${stackName})`, function () {
    this.timeout(60_000);
    let run: StackRun;
    before(async () => {
      run = await runStack(stackName);
    });
    const one = (type: string, pick: (r: CapturedResource) => boolean) => {
      const found = run.ofType(type).filter(pick);
      assert.equal(found.length, 1, `${type}: ${found.length}`);
      return found[0].inputs;
    };
    const service = () =>
      one('kubernetes:core/v1:Service', (r) => r.inputs.metadata.name === serviceIdentity.job);
    const apiDeployment = () =>
      one(
        'kubernetes:apps/v1:Deployment',
        (r) => r.inputs.metadata.name === serviceIdentity.deployment,
      );
    const container = () =>
      apiDeployment().spec.template.spec.containers.find(
        (c: { name: string }) => c.name === appContainer.name,
      );

    it('publishes the API, its description and the status-only health paths, never /metrics', () => {
      const ingress = one(
        'kubernetes:networking.k8s.io/v1:Ingress',
        (r) => r.inputs.metadata.name === serviceIdentity.service,
      );
      const paths = ingress.spec.rules.flatMap(
        (rule: { http: { paths: unknown[] } }) => rule.http.paths,
      );
      assert.deepEqual(
        paths.map((p: { path: string; pathType: string }) => [p.path, p.pathType]),
        [
          ['/v1', 'Prefix'],
          ['/openapi.json', 'Exact'],
          ['/docs', 'Prefix'],
          ['/healthz', 'Exact'],
          ['/readyz', 'Exact'],
          ['/.well-known/jwks.json', 'Exact'],
        ],
      );
      for (const p of paths) assert.equal(p.backend.service.port.name, 'http');
      const http = service().spec.ports.find((p: { name: string }) => p.name === 'http');
      assert.equal(http.targetPort, 'http');
      assert.equal(publicPaths.length, paths.length);
      for (const p of paths) assert.doesNotMatch(p.path, /metrics/);
    });

    it('routes every route the service defines (token routes and JWKS included), by Kubernetes path matching', () => {
      const ingress = one(
        'kubernetes:networking.k8s.io/v1:Ingress',
        (r) => r.inputs.metadata.name === serviceIdentity.service,
      );
      const paths: { path: string; pathType: string }[] = ingress.spec.rules.flatMap(
        (rule: { http: { paths: unknown[] } }) => rule.http.paths,
      );
      // Prefix matches whole path elements (`/v1` serves `/v1/auth/token`, not `/v1x`).
      const routed = (request: string) =>
        paths.some(({ path, pathType }) =>
          pathType === 'Exact'
            ? request === path
            : request === path || request.startsWith(`${path.replace(/\/$/, '')}/`),
        );
      const routes = serviceRoutes();
      for (const route of ['/v1/auth/token', '/v1/auth/refresh', '/.well-known/jwks.json'])
        assert.ok(routes.includes(route), `the service no longer defines ${route}`);
      for (const route of routes)
        assert.ok(routed(route.replace(/:\w+/g, 'x')), `${route} is not routed by the Ingress`);
      for (const request of ['/metrics', '/.well-known/other', '/v1x'])
        assert.ok(!routed(request), `${request} is routed`);
    });

    it('scrapes metrics from the internal port the app is told to serve them on', () => {
      const monitor = one(
        'kubernetes:monitoring.coreos.com/v1:ServiceMonitor',
        (r) => r.inputs.metadata.name === serviceIdentity.job,
      );
      const [endpoint] = monitor.spec.endpoints;
      const servicePort = service().spec.ports.find(
        (p: { name: string }) => p.name === endpoint.port,
      );
      assert.ok(servicePort, `the Service has no port named ${endpoint.port}`);
      assert.equal(servicePort.targetPort, 'internal');
      const c = container();
      const internal = c.ports.find((p: { name: string }) => p.name === 'internal');
      assert.equal(internal.containerPort, appContainer.internalPort);
      const env = Object.fromEntries(
        c.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
      );
      assert.equal(env.INTERNAL_PORT, String(appContainer.internalPort));
      assert.notEqual(appContainer.internalPort, appContainer.httpPort);
    });

    it('probes the public port, whose /healthz and /readyz answer with a status', () => {
      const c = container();
      for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
        assert.equal(probe.httpGet.port, 'http');
        assert.ok(c.ports.some((p: { name: string }) => p.name === probe.httpGet.port));
      }
    });

    it('keeps idle connections open longer than the ALB does', () => {
      const c = container();
      const env = Object.fromEntries(
        c.env
          .filter(
            (e: { name: string; value?: string }) =>
              e.value !== undefined && !e.name.endsWith('_FILE'),
          )
          .map((e: { name: string; value: string }) => [e.name, e.value]),
      );
      const keepAlive = Number(env.HTTP_KEEP_ALIVE_TIMEOUT_MS);
      assert.ok(keepAlive > albIdleTimeoutSeconds * 1000, `${keepAlive} ms`);
      const ingress = one(
        'kubernetes:networking.k8s.io/v1:Ingress',
        (r) => r.inputs.metadata.name === serviceIdentity.service,
      );
      const attributes =
        ingress.metadata.annotations?.['alb.ingress.kubernetes.io/load-balancer-attributes'];
      if (attributes)
        assert.match(
          attributes,
          new RegExp(`idle_timeout\\.timeout_seconds=${albIdleTimeoutSeconds}\\b`),
        );
    });

    it('trusts X-Forwarded-For only from the proxy in front (client address for rate limits)', () => {
      const env = Object.fromEntries(
        container()
          .env.filter((e: { value?: string }) => e.value !== undefined)
          .map((e: { name: string; value: string }) => [e.name, e.value]),
      );
      const ingress = one(
        'kubernetes:networking.k8s.io/v1:Ingress',
        (r) => r.inputs.metadata.name === serviceIdentity.service,
      );
      if (ingress.metadata.annotations?.['alb.ingress.kubernetes.io/target-type'] === 'ip') {
        // The ALB connects to the pods from its nodes in the public subnets, and those are the
        // address ranges the API port admits: exactly the peers whose header is believed.
        const admitted = run
          .ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy')
          .filter((p) => p.inputs.metadata.name === `${serviceIdentity.service}-ingress`)
          .flatMap((p) => p.inputs.spec.ingress ?? [])
          .flatMap((rule: { from?: { ipBlock?: { cidr: string } }[] }) => rule.from ?? [])
          .flatMap((from: { ipBlock?: { cidr: string } }) =>
            from.ipBlock ? [from.ipBlock.cidr] : [],
          );
        assert.ok(admitted.length > 0);
        assert.deepEqual(env.HTTP_TRUST_PROXY.split(',').sort(), [...new Set(admitted)].sort());
        assert.match(
          ingress.metadata.annotations['alb.ingress.kubernetes.io/load-balancer-attributes'],
          /routing\.http\.xff_header_processing\.mode=replace/,
        );
      } else {
        assert.equal(env.HTTP_TRUST_PROXY, '1', 'one ingress-controller hop');
      }
      const hpa = one('kubernetes:autoscaling/v2:HorizontalPodAutoscaler', () => true);
      assert.equal(env.RATE_LIMIT_EXPECTED_REPLICAS, String(hpa.spec.minReplicas));
    });

    it('lets only namespaces, not load-balancer address ranges, reach the internal port', () => {
      const policies = run
        .ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy')
        .map((p) => p.inputs)
        .filter((p) => p.spec.ingress);
      const rules = policies.flatMap((p) => p.spec.ingress);
      const toInternal = rules.filter((r: { ports?: { port: number }[] }) =>
        r.ports?.some((p) => p.port === appContainer.internalPort),
      );
      assert.ok(toInternal.length > 0, 'no policy admits the scraper to the internal port');
      for (const rule of toInternal) {
        for (const from of rule.from) assert.equal(from.ipBlock, undefined);
      }
    });
  });
}
