import type { Generator } from '../../catalog/generation';
import { k6Thresholds } from './k6-thresholds';

// What loadtest/ contributes to `npm run gen`: the k6 thresholds the load tests enforce, derived
// from the catalog's SLOs.
export function loadtestGenerator(): Generator {
  return {
    name: 'k6 SLO thresholds',
    owns: ['loadtest/generated/thresholds.json'],
    generate: () => [
      {
        path: 'loadtest/generated/thresholds.json',
        content: JSON.stringify(k6Thresholds(), null, 2) + '\n',
      },
    ],
  };
}
