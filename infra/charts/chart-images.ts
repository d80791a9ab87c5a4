import { imageDigests } from './image-digests';

/**
 * The container images each pinned chart renders with the program's values, read from the chart's
 * templates at its release tag (the same tags values-keys/*.json were derived from), and the key
 * through which its templates take a digest. Images of disabled parts (the charts' test pods,
 * Thanos Ruler, Loki's gateway, canary and caches, Vault's CSI provider, KEDA's and Argo's
 * dashboards, metrics-server's addon-resizer, cert-manager's startupapicheck, Grafana's image
 * renderer and dashboard downloader, kube-rbac-proxy sidecars) are not listed: the program leaves
 * them off. A chart version without a list here fails the pinned-images test, so a bump restates
 * what the new version renders.
 */

/**
 * How a chart's template turns the values into `repository:tag@digest`:
 * - `sha`: `{at}.sha` is the bare hex, the template writes `@sha256:{{sha}}` (kube-prometheus-stack, grafana);
 * - `prefixedSha`: `{at}.sha` is written after `@` as is, so it carries `sha256:` (kube-state-metrics);
 * - `digest`: `{at}.digest` is `sha256:…`, written after `@`;
 * - `tag`: the chart has no digest key and writes `repository:{{tag}}`, so the tag carries
 *   `<tag>@sha256:…` (only where no template parses the tag as a version or puts it in a label
 *   without stripping the digest — checked per chart);
 * - `none`: the chart cannot take a digest at all (no key, and a tag with one breaks the render).
 */
export type DigestKey = 'sha' | 'prefixedSha' | 'digest' | 'tag' | 'none';

export interface ChartImage {
  /** Values path of the image's block (`{at}.sha`, `{at}.digest`, `{at}.tag`). */
  at: string;
  /** What the chart renders when the values set no tag: `repository:tag` (the chart's default tag). */
  image: string;
  key: DigestKey;
}

const img = (at: string, image: string, key: DigestKey): ChartImage => ({ at, image, key });

export const chartImages: Readonly<Record<string, readonly ChartImage[]>> = {
  // templates/prometheus-operator/deployment.yaml (operator image, --prometheus-config-reloader
  // and --thanos-default-base-image arguments), admission-webhooks/job-patch (the patch Jobs: on,
  // certManager off), prometheus/prometheus.yaml, alertmanager/alertmanager.yaml; grafana 9.4.5
  // templates/_pod.tpl (grafana, the dashboards sidecar, init-chown-data when persistence is on);
  // kube-state-metrics 6.3.0 and prometheus-node-exporter 4.47.3 templates/_helpers.tpl.
  'kube-prometheus-stack 77.6.2': [
    img(
      'prometheusOperator.image',
      'quay.io/prometheus-operator/prometheus-operator:v0.85.0',
      'sha',
    ),
    img(
      'prometheusOperator.prometheusConfigReloader.image',
      'quay.io/prometheus-operator/prometheus-config-reloader:v0.85.0',
      'sha',
    ),
    img('prometheusOperator.thanosImage', 'quay.io/thanos/thanos:v0.39.2', 'sha'),
    img(
      'prometheusOperator.admissionWebhooks.patch.image',
      'registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.2',
      'sha',
    ),
    img('prometheus.prometheusSpec.image', 'quay.io/prometheus/prometheus:v3.5.0', 'sha'),
    img('alertmanager.alertmanagerSpec.image', 'quay.io/prometheus/alertmanager:v0.28.1', 'sha'),
    img('grafana.image', 'docker.io/grafana/grafana:12.1.1', 'sha'),
    img('grafana.sidecar.image', 'quay.io/kiwigrid/k8s-sidecar:1.30.10', 'sha'),
    img('grafana.initChownData.image', 'docker.io/library/busybox:1.31.1', 'sha'),
    img(
      'kube-state-metrics.image',
      'registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.17.0',
      'prefixedSha',
    ),
    img('prometheus-node-exporter.image', 'quay.io/prometheus/node-exporter:v1.9.1', 'digest'),
  ],
  // templates/_helpers.tpl loki.baseImage: `@digest` replaces the tag; the single binary and its
  // rules sidecar (sidecar.rules.enabled defaults to true).
  'loki 6.55.0': [
    img('loki.image', 'docker.io/grafana/loki:3.6.7', 'digest'),
    img('sidecar.image', 'docker.io/kiwigrid/k8s-sidecar:2.5.0', 'sha'),
  ],
  // templates/statefulset.yaml; the version label strips `@sha…` from the tag (_helpers.tpl).
  'tempo 1.24.4': [img('tempo', 'docker.io/grafana/tempo:2.9.0', 'tag')],
  // templates/_helpers.tpl alloy.imageId and config-reloader.imageId.
  'alloy 1.11.1': [
    img('image', 'docker.io/grafana/alloy:v1.18.1', 'digest'),
    img(
      'configReloader.image',
      'quay.io/prometheus-operator/prometheus-config-reloader:v0.91.0',
      'digest',
    ),
  ],
  // templates/controller/deployment.yaml; the version label strips `@sha256:…` (_helpers.tpl).
  'argo-rollouts 2.41.0': [img('controller.image', 'quay.io/argoproj/argo-rollouts:v1.9.0', 'tag')],
  // templates/{manager,metrics-server,webhooks}/deployment.yaml; labels use the chart's appVersion.
  'keda 2.20.2': [
    img('image.keda', 'ghcr.io/kedacore/keda:2.20.2', 'tag'),
    img('image.metricsApiServer', 'ghcr.io/kedacore/keda-metrics-apiserver:2.20.2', 'tag'),
    img('image.webhooks', 'ghcr.io/kedacore/keda-admission-webhooks:2.20.2', 'tag'),
  ],
  // templates/_helpers.tpl metrics-server.image.
  'metrics-server 3.13.1': [
    img('image', 'registry.k8s.io/metrics-server/metrics-server:v0.8.1', 'tag'),
  ],
  // templates/deployment.yaml.
  'aws-load-balancer-controller 3.5.0': [
    img('image', 'public.ecr.aws/eks/aws-load-balancer-controller:v3.5.0', 'tag'),
  ],
  // templates/_helpers.tpl karpenter.controller.image (the chart's values.yaml sets a digest).
  'karpenter 1.14.1': [
    img('controller.image', 'public.ecr.aws/karpenter/controller:1.14.1', 'digest'),
  ],
  // templates/deployment.yaml (the image and OPERATOR_IMAGE_NAME, both from image.tag).
  'cloudnative-pg 0.26.0': [img('image', 'ghcr.io/cloudnative-pg/cloudnative-pg:1.27.0', 'tag')],
  // templates/statefulset.yaml (the qdrant container and its ensure-dir-ownership init container);
  // its readiness probe passes image.tag to semverCompare, which fails on `v1.15.4@sha256:…`.
  'qdrant 1.15.4': [img('image', 'docker.io/qdrant/qdrant:v1.15.4', 'none')],
  // templates/server-statefulset.yaml and injector-deployment.yaml; the injector hands agentImage
  // to every pod it injects.
  'vault 0.31.0': [
    img('server.image', 'hashicorp/vault:1.20.4', 'tag'),
    img('injector.image', 'hashicorp/vault-k8s:1.7.0', 'tag'),
    img('injector.agentImage', 'hashicorp/vault:1.20.4', 'tag'),
  ],
  // deploy/charts/cert-manager/templates/{deployment,webhook-deployment,cainjector-deployment}.yaml;
  // the acmesolver image is an argument of the controller.
  'cert-manager v1.19.1': [
    img('image', 'quay.io/jetstack/cert-manager-controller:v1.19.1', 'digest'),
    img('webhook.image', 'quay.io/jetstack/cert-manager-webhook:v1.19.1', 'digest'),
    img('cainjector.image', 'quay.io/jetstack/cert-manager-cainjector:v1.19.1', 'digest'),
    img('acmesolver.image', 'quay.io/jetstack/cert-manager-acmesolver:v1.19.1', 'digest'),
  ],
};

/** The list of a release's chart (`oci://…/karpenter` is karpenter) at its version. */
export function imagesOfChart(chart: string, version: string): readonly ChartImage[] | undefined {
  return chartImages[`${chart.split('/').pop()} ${version}`];
}

type Values = Record<string, unknown>;

function isPlainObject(v: unknown): v is Values {
  return !!v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

function blockAt(values: Values, at: string): Values | undefined {
  let node: unknown = values;
  for (const part of at.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return isPlainObject(node) ? node : undefined;
}

const splitRef = (ref: string) => {
  const colon = ref.lastIndexOf(':');
  return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
};

/**
 * The image a release's values make the chart render for `image` (tag from the values where they
 * set one) and the digest they pin it with, if any.
 */
export function renderedImage(values: Values, image: ChartImage): { ref: string; digest?: string } {
  const { repository, tag: defaultTag } = splitRef(image.image);
  const block = blockAt(values, image.at);
  const field = (k: string) => (typeof block?.[k] === 'string' ? (block[k] as string) : undefined);
  const [tag, tagDigest] = (field('tag') || defaultTag).split('@');
  const ref = `${repository}:${tag}`;
  const hex = /^[a-f0-9]{64}$/;
  const prefixed = /^sha256:[a-f0-9]{64}$/;
  let digest: string | undefined;
  if (image.key === 'none') digest = undefined;
  else if (image.key === 'tag') digest = tagDigest;
  else if (image.key === 'sha')
    digest = hex.test(field('sha') ?? '') ? `sha256:${field('sha')}` : undefined;
  else if (image.key === 'prefixedSha') digest = field('sha');
  else digest = field('digest');
  return { ref, digest: digest && prefixed.test(digest) ? digest : undefined };
}

/** The values that pin `image` to `digest` through the chart's own key. */
function pinValues(image: ChartImage, digest: string): Values {
  const { tag } = splitRef(image.image);
  const leaf: Values =
    image.key === 'tag'
      ? { tag: `${tag}@${digest}` }
      : image.key === 'sha'
        ? { sha: digest.slice('sha256:'.length) }
        : image.key === 'prefixedSha'
          ? { sha: digest }
          : { digest };
  return image.at
    .split('.')
    .reverse()
    .reduce<Values>((inner, part) => ({ [part]: inner }), leaf);
}

/** `values` over `base`: plain maps merge, anything else (lists, Outputs) replaces. */
function over(base: Values, values: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(values))
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? over(out[k] as Values, v) : v;
  return out;
}

/**
 * A release's values with every image its chart renders pinned to the digest recorded in
 * image-digests.ts for the chart's default tag. What the component sets itself wins (an image it
 * pins to another tag keeps that tag and digest). Images with no recorded digest stay as the chart
 * has them; the pinned-images test names each and requires a reason for it.
 */
export function withPinnedImages<V extends Values>(chart: string, version: string, values: V): V {
  const pins = (imagesOfChart(chart, version) ?? [])
    // A tag the component chose is not the one the recorded digest belongs to.
    .filter(
      (i) => i.key !== 'none' && imageDigests[i.image] && renderedImage(values, i).ref === i.image,
    )
    .reduce<Values>((acc, i) => over(acc, pinValues(i, imageDigests[i.image].digest)), {});
  return over(pins, values) as V;
}
