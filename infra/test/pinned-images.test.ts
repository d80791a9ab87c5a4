import assert from 'node:assert/strict';
import { runStack, stacks, type CapturedResource } from './support/stack-under-mocks';

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
        const digest = image.digest ?? (image.sha ? `sha256:${image.sha}` : undefined);
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
