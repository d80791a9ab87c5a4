import { PolicyPack } from '@pulumi/policy';
import { guardrails } from './policies';

// `pulumi preview --policy-pack infra/policy --policy-pack-config infra/policy/config/<env>.json`.
// Advisory by default; config/production.json makes every policy mandatory.
new PolicyPack('rag-platform-guardrails', { enforcementLevel: 'advisory', policies: guardrails });
