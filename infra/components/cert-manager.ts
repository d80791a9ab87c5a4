import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { ClusterHandle } from './cluster';

export const certManagerNamespace = 'cert-manager';

/**
 * The chart and the images it runs, pinned together: the digests are those of the v1.19.1 release
 * images (multi-arch index digests), so a chart bump must restate them. The startupapicheck Job is
 * off: it only waits for the webhook, and would be one more image to pin.
 */
export const certManagerChart = {
  repo: 'https://charts.jetstack.io',
  version: 'v1.19.1',
  images: {
    controller: {
      repository: 'quay.io/jetstack/cert-manager-controller',
      digest: 'sha256:cd49e769e18ada1fd7b9a9bacc87c90db24c65cbfd4bf71694dda7ed40e91187',
    },
    webhook: {
      repository: 'quay.io/jetstack/cert-manager-webhook',
      digest: 'sha256:f5bfe77541e38978aec53cc6eb924d190e1fe923c98b2582e6ccf5edf6c02cce',
    },
    cainjector: {
      repository: 'quay.io/jetstack/cert-manager-cainjector',
      digest: 'sha256:c7898aece8fb08102fca0b37683e37cb94e0a77c0d15b8e3c9128f6c04c868e0',
    },
    acmesolver: {
      repository: 'quay.io/jetstack/cert-manager-acmesolver',
      digest: 'sha256:35ed1103cb49a3e1fc2438de84f304e3fbdeb53e0366f6b1bc2ec9b2e57462db',
    },
  },
} as const;

/** The cluster-internal CA that signs Vault's serving certificate (and nothing public). */
export const internalCaIssuer = 'platform-internal-ca';
/** Pod labels of the chart's three Deployments (app.kubernetes.io/name). */
export const certManagerPods = {
  controller: { 'app.kubernetes.io/name': 'cert-manager' },
  webhook: { 'app.kubernetes.io/name': 'webhook' },
  cainjector: { 'app.kubernetes.io/name': 'cainjector' },
} as const;
/** The webhook's secure port (chart default `webhook.securePort`), which the API server calls. */
export const certManagerWebhookPort = 10250;

const caSecret = 'platform-internal-ca';

/**
 * cert-manager and a private CA for in-cluster TLS. Why cert-manager and not Vault's PKI engine:
 * Vault's own listener needs its certificate before Vault can be unsealed or answer anything, so
 * Vault cannot issue it; cert-manager issues and renews it independently of Vault's state, keeps
 * the CA key inside the cluster (never in Pulumi state), and hands every client namespace the CA
 * through a Certificate of its own (see `trustBundle`) instead of a copied Secret.
 *
 * The CA is bootstrapped the way cert-manager documents it: a self-signed ClusterIssuer signs the
 * CA certificate, a CA ClusterIssuer then signs leaf certificates with it.
 */
export class CertManager extends pulumi.ComponentResource {
  readonly installed: k8s.helm.v3.Release;
  /** The ClusterIssuer leaf certificates name; exists once the CA certificate is issued. */
  readonly issuer: k8s.apiextensions.CustomResource;

  constructor(
    name: string,
    args: { cluster: ClusterHandle; highlyAvailable: boolean },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super('rag-platform:tls:CertManager', name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const { images } = certManagerChart;
    const replicas = args.highlyAvailable ? 2 : 1;
    const budget = args.highlyAvailable
      ? { podDisruptionBudget: { enabled: true, maxUnavailable: 1 } }
      : {};
    const release = new k8s.helm.v3.Release(
      name,
      {
        name: 'cert-manager',
        chart: 'cert-manager',
        version: certManagerChart.version,
        repositoryOpts: { repo: certManagerChart.repo },
        namespace: certManagerNamespace,
        createNamespace: true,
        atomic: true,
        values: {
          // CRDs with the chart, kept on uninstall: deleting them would delete every Certificate.
          crds: { enabled: true, keep: true },
          replicaCount: replicas,
          ...budget,
          image: { repository: images.controller.repository, digest: images.controller.digest },
          webhook: {
            replicaCount: replicas,
            ...budget,
            image: { repository: images.webhook.repository, digest: images.webhook.digest },
          },
          cainjector: {
            replicaCount: replicas,
            ...budget,
            image: { repository: images.cainjector.repository, digest: images.cainjector.digest },
          },
          acmesolver: {
            image: { repository: images.acmesolver.repository, digest: images.acmesolver.digest },
          },
          startupapicheck: { enabled: false },
        },
      },
      k8sOpts,
    );
    this.installed = release;
    const afterChart = { ...k8sOpts, dependsOn: [release] };

    const selfSigned = new k8s.apiextensions.CustomResource(
      `${name}-self-signed`,
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'ClusterIssuer',
        metadata: { name: 'self-signed' },
        spec: { selfSigned: {} },
      },
      afterChart,
    );
    const ca = new k8s.apiextensions.CustomResource(
      `${name}-internal-ca`,
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: caSecret, namespace: certManagerNamespace },
        spec: {
          isCA: true,
          commonName: `${pulumi.getStack()} platform internal CA`,
          secretName: caSecret,
          // Ten years, renewed a year ahead: a CA rotation is planned (runbooks/procedures/
          // secret-rotation.md), never a surprise. Leaves are short-lived.
          duration: '87600h',
          renewBefore: '8760h',
          privateKey: { algorithm: 'ECDSA', size: 256 },
          issuerRef: {
            name: selfSigned.metadata.name,
            kind: 'ClusterIssuer',
            group: 'cert-manager.io',
          },
        },
      },
      { ...afterChart, dependsOn: [release, selfSigned] },
    );
    this.issuer = new k8s.apiextensions.CustomResource(
      `${name}-internal-ca-issuer`,
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'ClusterIssuer',
        metadata: { name: internalCaIssuer },
        // A CA ClusterIssuer reads its secret from the cluster resource namespace (the chart's).
        spec: { ca: { secretName: caSecret } },
      },
      { ...afterChart, dependsOn: [release, ca] },
    );
    this.registerOutputs({});
  }

  /**
   * A Certificate signed by the internal CA whose Secret carries `ca.crt`, the CA clients verify
   * Vault with. Each client namespace gets its own (Secrets do not cross namespaces); its leaf is a
   * client certificate nothing requires yet, its `ca.crt` is what the pods mount.
   */
  trustBundle(
    name: string,
    namespace: pulumi.Input<string>,
    secretName: string,
    opts: pulumi.CustomResourceOptions,
  ): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: secretName, namespace },
        spec: {
          secretName,
          commonName: pulumi.interpolate`${namespace} vault client`,
          duration: '2160h',
          renewBefore: '720h',
          usages: ['client auth'],
          privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
          issuerRef: { name: internalCaIssuer, kind: 'ClusterIssuer', group: 'cert-manager.io' },
        },
      },
      { ...opts, dependsOn: [this.issuer] },
    );
  }
}
