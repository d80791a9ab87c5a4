import assert from 'node:assert/strict';
import { fireDrills } from '../fire/fire-drills';
import { alertKey, shippedAlerts } from '../fire/shipped-alerts';
import { undrillableAlerts } from '../fire/undrillable-alerts';

// Every alerting rule alerts/ ships is either produced by a fire drill or listed with the reason no
// drill can produce it here: a new alert fails this test until it is one or the other.

describe('fire drills cover every shipped alert', () => {
  const drilled = new Set(fireDrills.map(alertKey));
  const listed = new Set(undrillableAlerts.map(alertKey));
  const shipped = new Set(shippedAlerts().map(alertKey));

  it('every critical (paging) alert is drilled or listed as not drillable here', () => {
    const missing = shippedAlerts()
      .filter((a) => a.severity === 'critical')
      .map(alertKey)
      .filter((k) => !drilled.has(k) && !listed.has(k));
    assert.deepEqual(missing, []);
  });

  it('every other alert is drilled or listed too', () => {
    assert.deepEqual(
      [...shipped].filter((k) => !drilled.has(k) && !listed.has(k)),
      [],
    );
  });

  it('nothing is both drilled and listed, and nothing drilled or listed is gone from the rules', () => {
    assert.deepEqual(
      [...drilled].filter((k) => listed.has(k)),
      [],
    );
    assert.deepEqual(
      [...drilled, ...listed].filter((k) => !shipped.has(k)),
      [],
    );
  });

  it('drill names are unique and the drills include a dependency-down cause alert and a burn-rate page', () => {
    assert.equal(new Set(fireDrills.map((d) => d.name)).size, fireDrills.length);
    assert.ok(fireDrills.some((d) => d.alert.endsWith('Down')));
    assert.ok(fireDrills.some((d) => d.alert.endsWith('BudgetBurn') && d.severity === 'critical'));
  });
});
