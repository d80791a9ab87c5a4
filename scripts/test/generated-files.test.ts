import assert from 'node:assert/strict';
import { findDrift } from '../generate';

describe('generated files', () => {
  it('every committed generated file equals a fresh `npm run gen`', async () => {
    const drift = await findDrift();
    assert.deepEqual(drift, [], 'run `npm run gen` and commit the result');
  });
});
