import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { chartDescription } from '../charts/chart-values';
import {
  chartImages,
  imagesOfChart,
  renderedImage,
  withPinnedImages,
} from '../charts/chart-images';
import { imageDigests, singleSourceDigests } from '../charts/image-digests';
import {
  runStack,
  stacks,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

// Every third-party image the program sets is pinned by digest: container images of every workload
// it declares (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Rollouts) and every image a
// chart's values set. A tag can be re-pointed upstream after review; a digest cannot. The
// service's own image is exempt on dev (built locally, `rag-platform:dev`); staging and production
// require its digest in the stack schema.

const digested = /@sha256:[a-f0-9]{64}$/;

/** Images in a pod spec (containers and init containers). */
function podImages(spec: any): string[] {
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].map(
    (c: { image: string }) => c.image,
  );
}

/** The pod spec of a workload, wherever its kind keeps it. */
function podSpecOf(r: CapturedResource): any {
  const spec = r.inputs.spec;
  return (
    spec?.jobTemplate?.spec?.template?.spec ??
    spec?.template?.spec ??
    (spec?.containers ? spec : undefined)
  );
}

/**
 * Images a chart's values set, with their values path: a string under a key ending in `image`
 * (`repo:tag`), or a map with a `repository` (`{repository, tag, digest | sha}`).
 */
export function chartValueImages(values: unknown, at = ''): { at: string; ref: string }[] {
  if (Array.isArray(values)) return values.flatMap((v, i) => chartValueImages(v, `${at}[${i}]`));
  if (!values || typeof values !== 'object') return [];
  const found: { at: string; ref: string }[] = [];
  for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
    const path = at ? `${at}.${key}` : key;
    if (/image$/i.test(key) && typeof value === 'string') found.push({ at: path, ref: value });
    else if (/image$/i.test(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      const image = value as Record<string, string | undefined>;
      if (image.repository || image.tag || image.digest || image.sha) {
        // kube-state-metrics writes its `sha` after `@` as is (`sha256:…`); the others add the prefix.
        const sha =
          image.sha && !image.sha.startsWith('sha256:') ? `sha256:${image.sha}` : image.sha;
        const digest = image.digest ?? sha;
        const tag = image.tag ?? '(chart default tag)';
        found.push({
          at: path,
          ref: `${image.repository ?? '(chart default)'}:${tag}${digest ? `@${digest}` : ''}`,
        });
      }
    } else found.push(...chartValueImages(value, path));
  }
  return found;
}

/** Every image reference the run sets, with where it is set. */
export function imagesOf(resources: readonly CapturedResource[]): { where: string; ref: string }[] {
  return resources.flatMap((r) => {
    if (r.type === 'kubernetes:helm.sh/v3:Release')
      return chartValueImages(r.inputs.values ?? {}).map(({ at, ref }) => ({
        where: `Release ${r.inputs.name ?? r.name} values ${at}`,
        ref,
      }));
    if (!r.type.startsWith('kubernetes:')) return [];
    return podImages(podSpecOf(r)).map((ref) => ({ where: `${r.type} ${r.name}`, ref }));
  });
}

describe('third-party images pinned by digest', function () {
  this.timeout(120_000);
  for (const stack of stacks) {
    it(`${stack}: every image set by a workload or chart values carries a digest`, async () => {
      const run = await runStack(stack);
      const images = imagesOf(run.resources);
      // The walk finds what it must: the exporters, the backup and Vault images, chart images.
      assert.ok(images.some((i) => i.ref.includes('postgres-exporter')));
      assert.ok(images.some((i) => i.where.includes('values server.image')));
      assert.ok(images.some((i) => i.where.includes('values injector.agentImage')));
      assert.ok(
        images.some((i) => i.where.includes('values image') && i.ref.includes('cert-manager')),
      );
      const ownImage = run.config.app.image;
      const loose = images
        .filter((i) => !digested.test(i.ref) && !(stack === 'dev' && i.ref === ownImage))
        .map((i) => `${i.where}: ${i.ref}`);
      assert.deepEqual(loose, []);
    });
  }

  it('flags a tag-only image in a container and in chart values (the check is live)', () => {
    const deployment = {
      type: 'kubernetes:apps/v1:Deployment',
      name: 'x',
      inputs: { spec: { template: { spec: { containers: [{ image: 'redis:7.4.6-alpine' }] } } } },
    } as unknown as CapturedResource;
    const release = {
      type: 'kubernetes:helm.sh/v3:Release',
      name: 'y',
      inputs: {
        name: 'y',
        values: {
          server: { image: { repository: 'hashicorp/vault', tag: '1.20.4' } },
          alertmanager: { alertmanagerSpec: { image: { tag: 'v0.28.1' } } },
          controller: { image: 'quay.io/x/y:v1' },
        },
      },
    } as unknown as CapturedResource;
    const refs = imagesOf([deployment, release]).filter((i) => !digested.test(i.ref));
    assert.deepEqual(
      refs.map((i) => i.where),
      [
        'kubernetes:apps/v1:Deployment x',
        'Release y values server.image',
        'Release y values alertmanager.alertmanagerSpec.image',
        'Release y values controller.image',
      ],
    );
  });
});

/**
 * Images the pinned charts render that no values pin yet, each with the reason. An entry goes
 * stale (and fails) once no release renders the image unpinned: the list only ever shrinks.
 */
const unpinnedChartImages: Readonly<Record<string, string>> = {
  'quay.io/prometheus-operator/prometheus-operator:v0.85.0':
    'no public record of the v0.85.0 digest found (crane digest it, then add it to image-digests.ts)',
  'quay.io/prometheus-operator/prometheus-config-reloader:v0.85.0':
    'no public record of the v0.85.0 digest found; the operator injects it into Prometheus and Alertmanager pods',
  'quay.io/thanos/thanos:v0.39.2':
    'no public record found; only the operator argument --thanos-default-base-image, used by no Prometheus here (no Thanos sidecar, no ThanosRuler)',
  'quay.io/kiwigrid/k8s-sidecar:1.30.10': 'no public record of the 1.30.10 digest found',
  'docker.io/library/busybox:1.31.1':
    'public records disagree (sha256:999f1137… and sha256:b20c55f6…); rendered on dev only (Grafana persistence)',
  'registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.17.0':
    'the public records found cut the digest off; the registry.k8s.io promoter manifest in the index stops at v2.15.0',
  'docker.io/grafana/loki:3.6.7': 'no public record of the 3.6.7 digest found',
  'docker.io/kiwigrid/k8s-sidecar:2.5.0': 'no public record of the 2.5.0 digest found',
  'docker.io/grafana/alloy:v1.18.1':
    'public records disagree (sha256:75440973… and sha256:0f4434c9…, several files each)',
  'quay.io/argoproj/argo-rollouts:v1.9.0': 'no public record of the v1.9.0 digest found',
  'public.ecr.aws/eks/aws-load-balancer-controller:v3.5.0': 'no public record of the digest found',
  'ghcr.io/cloudnative-pg/cloudnative-pg:1.27.0': 'no public record of the 1.27.0 digest found',
  'docker.io/qdrant/qdrant:v1.15.4':
    'the chart cannot take one: qdrant 1.15.4 has no digest key and passes image.tag to semverCompare ' +
    '(templates/statefulset.yaml readiness probe), so a tag@digest fails the render',
};

type Release = { name: string; inputs: Record<string, any> };

/** Each image the releases' charts render, with its digest from the values (if any). */
export function chartImagesOf(releases: readonly Release[]): {
  release: string;
  at: string;
  ref: string;
  digest?: string;
}[] {
  return releases.flatMap((r) =>
    (imagesOfChart(r.inputs.chart, r.inputs.version) ?? []).map((image) => ({
      release: r.name,
      at: image.at,
      ...renderedImage(r.inputs.values ?? {}, image),
    })),
  );
}

/** What keeps a release's chart images from being pinned: no list for its version, a missing digest. */
export function chartImageProblems(releases: readonly Release[]): string[] {
  const noList = releases
    .filter((r) => !imagesOfChart(r.inputs.chart, r.inputs.version))
    .map((r) => `${r.name}: no rendered-images list for ${r.inputs.chart} ${r.inputs.version}`);
  const images = chartImagesOf(releases);
  const unpinned = images
    .filter((i) => !i.digest && !unpinnedChartImages[i.ref])
    .map((i) => `${i.release}: ${i.ref} (values ${i.at}) has no digest`);
  // One reviewed digest per image, wherever the program sets it.
  const differing = images
    .filter((i) => i.digest && imageDigests[i.ref] && i.digest !== imageDigests[i.ref].digest)
    .map((i) => `${i.release}: ${i.ref} pinned to ${i.digest}, image-digests.ts records another`);
  return [...noList, ...unpinned, ...differing];
}

const releaseType = 'kubernetes:helm.sh/v3:Release';

describe('images the charts render by default, pinned by digest', function () {
  this.timeout(120_000);
  const runs = new Map<string, StackRun>();
  before(async () => {
    for (const stack of stacks) runs.set(stack, await runStack(stack));
  });
  const allImages = () => [...runs.values()].flatMap((r) => chartImagesOf(r.ofType(releaseType)));

  for (const stack of stacks) {
    it(`${stack}: every image of every chart release carries a digest or a stated reason`, () => {
      const releases = runs.get(stack)!.ofType(releaseType);
      assert.ok(releases.length >= 10);
      assert.deepEqual(chartImageProblems(releases), []);
    });
  }

  it('names an image whose digest is removed and a chart version with no list (the check is live)', () => {
    const kps = runs
      .get('dev')!
      .ofType(releaseType)
      .find((r) => r.inputs.chart === 'kube-prometheus-stack')!;
    const values = structuredClone(kps.inputs.values);
    delete values.grafana.image.sha;
    const bumped = { name: 'loki', inputs: { chart: 'loki', version: '9.9.9', values: {} } };
    assert.deepEqual(
      chartImageProblems([{ name: kps.name, inputs: { ...kps.inputs, values } }, bumped]),
      [
        'loki: no rendered-images list for loki 9.9.9',
        `${kps.name}: docker.io/grafana/grafana:12.1.1 (values grafana.image) has no digest`,
      ],
    );
  });

  it('keeps no stale reason: each names an image some release renders without a digest', () => {
    const unpinned = new Set(
      allImages()
        .filter((i) => !i.digest)
        .map((i) => i.ref),
    );
    assert.deepEqual(
      Object.keys(unpinnedChartImages).filter((ref) => !unpinned.has(ref)),
      [],
    );
  });

  it('records a digest only for an image some release renders', () => {
    const rendered = new Set(allImages().map((i) => i.ref));
    assert.deepEqual(
      Object.keys(imageDigests).filter((ref) => !rendered.has(ref)),
      [],
    );
  });

  it('lists every single-source digest in single-source-digests.txt (the crane loop)', () => {
    const listed = readFileSync(path.join(__dirname, '../charts/single-source-digests.txt'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(listed, singleSourceDigests());
  });
});

describe('pinning chart images through their own keys', () => {
  const entries = Object.entries(chartImages).flatMap(([key, images]) => {
    const [chart, version] = key.split(' ');
    return images.map((image) => ({ chart, version, image }));
  });

  it('writes each digest where the chart reads it, and reads it back from there', () => {
    const problems = entries.flatMap(({ chart, version, image }) => {
      const out: string[] = [];
      const keys = chartDescription(chart, version)?.keys;
      const field = { sha: 'sha', prefixedSha: 'sha', digest: 'digest', tag: 'tag', none: '' }[
        image.key
      ];
      if (field && !keys?.has(`${image.at}.${field}`))
        out.push(`${chart} ${version} does not read ${image.at}.${field}`);
      const recorded = imageDigests[image.image];
      if (recorded && image.key !== 'none') {
        const pinned = renderedImage(withPinnedImages(chart, version, {}), image);
        if (pinned.ref !== image.image || pinned.digest !== recorded.digest)
          out.push(`${image.image}: pinned as ${pinned.ref}@${pinned.digest}`);
      }
      return out;
    });
    assert.deepEqual(problems, []);
  });

  it('leaves an image alone where the program chose another tag, or the chart takes no digest', () => {
    const values = withPinnedImages('kube-prometheus-stack', '77.6.2', {
      prometheus: { prometheusSpec: { image: { tag: 'v3.6.0' } } },
    });
    const pinned = values as any;
    // v3.5.0's digest must not ride on v3.6.0; the other images keep their pins.
    assert.deepEqual(pinned.prometheus.prometheusSpec.image, { tag: 'v3.6.0' });
    assert.match(pinned.grafana.image.sha, /^[a-f0-9]{64}$/);
    assert.deepEqual(withPinnedImages('qdrant', '1.15.4', {}), {});
  });
});
