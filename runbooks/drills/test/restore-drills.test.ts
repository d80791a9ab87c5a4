import assert from 'node:assert/strict';
import { postgresPitrDrill } from '../restore/postgres-pitr';
import { vectorIndexRebuildDrill } from '../restore/vector-index-rebuild';
import { acquireLocalServices, type LocalServices } from '../stack/local-services';

// Small versions of the restore drills (`npm run drill -- restore-pitr`, `-- index-rebuild` run the
// full ones): the numbers are printed, not asserted; what must hold is that nothing acknowledged
// before the target is lost and nothing after it comes back, and that every document is searchable
// again after the rebuild.

describe('restore drills (small)', function () {
  this.timeout(300_000);

  it('Postgres point-in-time recovery restores every marker before the target and none after', async () => {
    const r = await postgresPitrDrill({
      markerSeconds: 2,
      markerIntervalMs: 50,
      archiveTimeoutSeconds: 1,
    });
    assert.ok(r.markersBeforeTarget > 0);
    assert.equal(r.markersLost, 0);
    assert.equal(r.markersAfterTargetRestored, 0);
    assert.equal(r.markersRestored, r.markersBeforeTarget);
    assert.ok(r.markersWritten > r.markersBeforeTarget, 'markers after the incident were written');
    console.log(
      `      PITR: RPO ${r.rpoMs} ms, RTO ${(r.rtoMs / 1000).toFixed(1)} s, ${r.walSegmentsArchived} WAL segments`,
    );
  });

  describe('vector index', () => {
    let services: LocalServices;
    let release: () => Promise<void>;
    before(async () => {
      ({ services, release } = await acquireLocalServices());
    });
    after(async () => release?.());

    it('is rebuilt from Postgres after it is lost, every document searchable again', async () => {
      const r = await vectorIndexRebuildDrill(services, { documents: 10 });
      assert.equal(r.documents, 10);
      assert.ok(r.chunksRestored >= 10);
      console.log(
        `      index rebuild: ${r.chunksRestored} chunks, ready after ${(r.timeToReadyMs / 1000).toFixed(1)} s (rebuild ${r.rebuildMs} ms)`,
      );
    });
  });
});
