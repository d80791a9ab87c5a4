import type { Generator } from '../../catalog/generation';
import { renderAlertmanagerConfig } from './alertmanager/alertmanager-config';
import {
  canaryAnalysisPath,
  canaryAnalysisTestFile,
  renderCanaryAnalysis,
} from './canary/canary-analysis';
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
        { path: canaryAnalysisPath, content: renderCanaryAnalysis() },
      ],
    },
    {
      name: 'promtool tests',
      owns: ['alerts/tests/'],
      generate: () => [...promtoolTestFiles(), canaryAnalysisTestFile()],
    },
  ];
}
