import assert from 'node:assert/strict';
import { serviceSettingNames } from '../../catalog/service-settings';
import { configSchema } from '../src/config';

// infra/ validates stack settings against the catalog's list of setting names, not against the
// service's code: the list must name exactly the variables the service reads.
describe('service settings in the catalog', () => {
  it('are exactly the keys of the configuration schema', () => {
    assert.deepEqual(
      [...serviceSettingNames].sort(),
      Object.keys(configSchema.shape).sort(),
      'catalog/service-settings.ts and app/src/config.ts disagree',
    );
  });
});
