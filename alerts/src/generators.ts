import type { Generator } from '../../scripts/generate';
import { renderAlertmanagerConfig } from './alertmanager/alertmanager-config';
import { k6Thresholds } from './slo/k6-thresholds';
import { promtoolTestFiles } from './render/promtool-tests';
import { renderRuleFile, ruleFiles } from './render/rule-files';

// What alerts/ contributes to `npm run gen`.
export function alertGenerators(): Generator[] {
  return [
    {
      name: 'prometheus rules',
      owns: ['alerts/generated/'],
      generate: () => [
        ...ruleFiles().map((f) => ({ path: f.path, content: renderRuleFile(f) })),
        { path: 'alerts/generated/alertmanager.yaml', content: renderAlertmanagerConfig() },
      ],
    },
    { name: 'promtool tests', owns: ['alerts/tests/'], generate: promtoolTestFiles },
    {
      name: 'k6 SLO thresholds',
      owns: ['loadtest/generated/thresholds.json'],
      generate: () => [
        {
          path: 'loadtest/generated/thresholds.json',
          content: JSON.stringify(k6Thresholds(), null, 2) + '\n',
        },
      ],
    },
  ];
}
