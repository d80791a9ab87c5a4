import type { ResourceValidationPolicy } from '@pulumi/policy';
import { containerHardening } from './container-hardening';
import { encryptionAtRest } from './encryption-at-rest';
import { noPublicDatastores } from './no-public-datastores';
import { pinnedImages } from './pinned-images';
import { statefulDeletionProtection } from './stateful-deletion-protection';

/** Every guardrail, shared by the policy pack and the tests that run it over each stack. */
export const guardrails: ResourceValidationPolicy[] = [
  encryptionAtRest,
  noPublicDatastores,
  statefulDeletionProtection,
  containerHardening,
  pinnedImages,
];
