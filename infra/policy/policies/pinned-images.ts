import type { ResourceValidationPolicy } from '@pulumi/policy';
import { allContainers, workloadOf } from '../workload-containers';

/** What runs is what was reviewed: images carry a digest or a version tag, never `latest`. */
export const pinnedImages: ResourceValidationPolicy = {
  name: 'pinned-images',
  description:
    'Container images are pinned by digest or a version tag; no `latest` and no untagged images.',
  validateResource: (args, reportViolation) => {
    const workload = workloadOf(args.type, args.props);
    if (!workload) return;
    for (const c of allContainers(workload.podSpec)) {
      const image = c.image ?? '';
      if (image.includes('@sha256:')) continue;
      const lastSegment = image.split('/').pop() ?? '';
      const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
      if (!tag || tag === 'latest')
        reportViolation(
          `container ${c.name ?? '(unnamed)'} image "${image}" must be pinned (digest or version tag, not latest).`,
        );
    }
  },
};
