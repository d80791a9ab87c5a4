import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../src/k6-runner';

export {
  failedThresholds,
  k6Binary,
  repoRoot,
  runK6,
  sampleCount,
  type K6SummaryExport,
} from '../../src/k6-runner';

/** The generated SLO thresholds (what every load test must enforce). */
export function generatedThresholds(): Record<string, string[]> {
  const file = path.join(repoRoot, 'loadtest/generated/thresholds.json');
  return JSON.parse(readFileSync(file, 'utf8')).thresholds;
}
