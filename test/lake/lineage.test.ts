/**
 * The lineage rules (jobs/lake/lineage.ts) on table histories built in memory: what silver and gold
 * have still to read, the consistent cut verify checks, and what maintenance must keep, for every
 * history shape that broke a reading of the markers before. No broker, no process.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  consistentCut,
  consumedByReaders,
  consumedSnapshots,
  goldInput,
  LineageError,
  pendingSnapshots,
  silverConsumedBronzeOnce,
  silverInput,
  type LakeMetadata,
} from '../../jobs/lake/lineage.ts';
import { bronzeOffsets, consumedBronze, consumedSilver, History } from '../support/history.ts';

const ids = (snapshots: readonly { 'snapshot-id': bigint }[]) => snapshots.map((s) => Number(s['snapshot-id']));

/** Bronze with appends 1, 2, 3 (offsets 0..30 of partition 0, ten each). */
const bronze3 = () =>
  new History().append(1, bronzeOffsets(0, 10)).append(2, bronzeOffsets(10, 20)).append(3, bronzeOffsets(20, 30));

const silver = suite('silver reads the bronze appends after what both its tables hold');

silver('a new lake: every bronze append is pending', () => {
  const input = silverInput(bronze3().metadata(), undefined, undefined);
  assert.equal(ids(input.pending), [1, 2, 3]);
  assert.equal(ids(input.recover), []);
});

silver('silver and rejected at the same bronze snapshot: the later appends, compactions left out', () => {
  const b = bronze3().replace(4, bronzeOffsets(20, 30)).append(5, bronzeOffsets(30, 40));
  const s = new History().append(101, consumedBronze(1));
  const r = new History().append(201, consumedBronze(1));
  const input = silverInput(b.metadata(), s.metadata(), r.metadata());
  assert.equal(ids(input.pending), [2, 3, 5]);
  assert.equal(ids(input.recover), []);
});

silver('rejected committed ahead of silver (a run died between its commits): those snapshots are recovered', () => {
  const s = new History().append(101, consumedBronze(1));
  const r = new History().append(201, consumedBronze(1)).append(202, consumedBronze(2));
  const input = silverInput(bronze3().metadata(), s.metadata(), r.metadata());
  assert.equal(ids(input.recover), [2]);
  assert.equal(ids(input.pending), [3]);
});

silver('rejected behind silver (the last runs rejected nothing): silver vouches for them', () => {
  const s = new History().append(101, consumedBronze(1)).append(102, consumedBronze(2));
  const r = new History().append(201, consumedBronze(1));
  const input = silverInput(bronze3().metadata(), s.metadata(), r.metadata());
  assert.equal(ids(input.recover), []);
  assert.equal(ids(input.pending), [3]);
});

silver("rejected's marker expired from bronze since: not an error, silver's marker stands", () => {
  const b = bronze3().append(4, bronzeOffsets(30, 40)).expireThrough(2);
  const s = new History().append(101, consumedBronze(3));
  const r = new History().append(201, consumedBronze(1));
  const input = silverInput(b.metadata(), s.metadata(), r.metadata());
  assert.equal(ids(input.pending), [4]);
});

silver("another engine's compaction of silver records no marker: the one before it is in force", () => {
  const s = new History().append(101, consumedBronze(2)).replace(102);
  const input = silverInput(bronze3().metadata(), s.metadata(), undefined);
  assert.equal(ids(input.pending), [3]);
});

silver('a silver marker bronze never had: the tables do not belong together', () => {
  const s = new History().append(101, consumedBronze(99));
  assert.throws(
    () => silverInput(bronze3().metadata(), s.metadata(), undefined),
    (e: Error) => e instanceof LineageError && /bronze snapshot 99, which is not in bronze's history/.test(e.message),
  );
});

silver('a marker that is not a snapshot id is damage, named', () => {
  const s = new History().append(101, { 'lakehouse.bronze.snapshot-id': '../../x' });
  assert.throws(() => silverInput(bronze3().metadata(), s.metadata(), undefined), /is damaged.*not a snapshot id/);
});

silver.run();

const gold = suite('gold reads what silver changed since its marker');

gold('no gold yet: all of silver, not incremental', () => {
  const s = new History().append(101, consumedBronze(1)).append(102, consumedBronze(2));
  const input = goldInput(s.metadata(), undefined);
  assert.equal(ids(input.changes), [101, 102]);
  assert.is(input.upToDate, false);
  assert.is(input.consumed, undefined);
});

gold('two compactions in a row while gold lagged silver: only the append gold has not seen', () => {
  const s = new History()
    .append(101, consumedBronze(1))
    .append(102, consumedBronze(2))
    .replace(103, consumedBronze(2))
    .replace(104, consumedBronze(2));
  const input = goldInput(s.metadata(), new History().overwrite(301, consumedSilver(101)).metadata());
  assert.equal(ids(input.changes), [102]);
  assert.is(input.appendsOnly, true);
  assert.is(input.consumed, 101n);
});

gold('a compaction after gold: gold is up to date', () => {
  const s = new History().append(101).replace(102);
  assert.is(goldInput(s.metadata(), new History().overwrite(301, consumedSilver(101)).metadata()).upToDate, true);
});

gold("gold's silver snapshot expired: recompute from all of silver", () => {
  const s = new History().append(101).append(102).replace(103).expireThrough(101);
  const input = goldInput(s.metadata(), new History().overwrite(301, consumedSilver(101)).metadata());
  assert.is(input.consumed, undefined);
  assert.equal(ids(input.changes), [102]);
  assert.is(input.appendsOnly, false);
});

gold('an overwrite of silver since: not incremental', () => {
  const s = new History().append(101).overwrite(102);
  const input = goldInput(s.metadata(), new History().overwrite(301, consumedSilver(101)).metadata());
  assert.is(input.appendsOnly, false);
});

gold.run();

const cut = suite('the consistent cut verify checks');

/** A lake where gold lags: gold read silver 101 (bronze 1); silver 102 and rejected 202 read bronze 2. */
function laggingLake(): LakeMetadata {
  return {
    bronze: bronze3().metadata(),
    silver: new History().append(101, consumedBronze(1)).append(102, consumedBronze(2)).metadata(),
    rejected: new History().append(201, consumedBronze(1)).append(202, consumedBronze(2)).metadata(),
    gold: new History().overwrite(301, consumedSilver(101)).metadata(),
  };
}

cut('gold lagging silver: the cut is what gold saw, the newer snapshots are ahead', () => {
  const found = consistentCut(laggingLake());
  assert.equal(Object.fromEntries(Object.entries(found.snapshots).map(([k, s]) => [k, Number(s!['snapshot-id'])])), {
    bronze: 1,
    silver: 101,
    rejected: 201,
    gold: 301,
  });
  assert.equal(found.ahead, { bronze: 2, silver: 1, rejected: 1 });
  assert.is(silverConsumedBronzeOnce(laggingLake(), found), undefined);
});

cut("gold names a silver snapshot silver does not have: verify's message", () => {
  const lake = { ...laggingLake(), gold: new History().overwrite(301, consumedSilver(999)).metadata() };
  assert.throws(
    () => consistentCut(lake),
    (e: Error) =>
      e instanceof LineageError &&
      e.invariant === 'every table has a snapshot' &&
      e.message === 'gold snapshot 301 was computed from snapshot 999, which its input table does not have',
  );
});

cut('expired history before two compactions: the first compaction marks where silver starts', () => {
  const b = bronze3().append(4, bronzeOffsets(30, 40)).expireThrough(2);
  const lake: LakeMetadata = {
    bronze: b.metadata(),
    silver: new History()
      .append(101, consumedBronze(1))
      .append(102, consumedBronze(3))
      .replace(103, consumedBronze(3))
      .replace(104, consumedBronze(3))
      .append(105, consumedBronze(4))
      .expireThrough(102)
      .metadata(),
    rejected: new History().append(201, consumedBronze(4)).metadata(),
    gold: new History().overwrite(301, consumedSilver(105)).metadata(),
  };
  const found = consistentCut(lake);
  assert.is(Number(found.snapshots.bronze!['snapshot-id']), 4);
  assert.is(silverConsumedBronzeOnce(lake, found), undefined);
});

cut('a bronze snapshot consumed twice is named', () => {
  const lake: LakeMetadata = {
    bronze: bronze3().metadata(),
    silver: new History()
      .append(101, consumedBronze(1))
      .append(102, consumedBronze(2))
      .append(103, consumedBronze(2))
      .append(104, consumedBronze(3))
      .metadata(),
    rejected: undefined,
    gold: new History().overwrite(301, consumedSilver(104)).metadata(),
  };
  assert.is(
    silverConsumedBronzeOnce(lake, consistentCut(lake)),
    'silver snapshot 103 consumed bronze snapshot 2 again',
  );
});

cut('a compaction claiming a bronze snapshot no append consumed: silver has not consumed it', () => {
  const lake: LakeMetadata = {
    bronze: bronze3().metadata(),
    silver: new History().append(101, consumedBronze(1)).replace(102, consumedBronze(2)).metadata(),
    rejected: undefined,
    gold: undefined,
  };
  assert.is(
    silverConsumedBronzeOnce(lake, consistentCut(lake)),
    "silver's snapshot 102 has not consumed bronze snapshot 2",
  );
});

cut.run();

const keep = suite('what maintenance keeps for the readers');

keep("bronze from the cut's bronze snapshot on; silver from gold's; nothing consumed before silver started", () => {
  const consumed = consumedByReaders(laggingLake());
  assert.equal(consumed.bronze, { kind: 'through', snapshot: 1n });
  assert.equal(consumed.silver, { kind: 'through', snapshot: 101n });
  assert.equal(consumed.rejected, { kind: 'through', snapshot: 201n });
  assert.equal(consumed.gold, { kind: 'all' });
  const fresh = consumedByReaders({
    bronze: bronze3().metadata(),
    silver: undefined,
    rejected: undefined,
    gold: undefined,
  });
  assert.equal(fresh.bronze, { kind: 'none' });
  assert.equal(fresh.silver, { kind: 'all' });
});

keep('consumed snapshots: through the marker, expired ones count as consumed unless nothing was', () => {
  const b = bronze3().metadata();
  const through = consumedSnapshots(b, { kind: 'through', snapshot: 2n });
  assert.equal([1n, 2n, 3n, 77n].map(through), [true, true, false, true]);
  const none = consumedSnapshots(b, { kind: 'none' });
  assert.equal([1n, 77n].map(none), [false, false]);
});

keep('pending snapshots per stage, for status', () => {
  assert.equal(pendingSnapshots(laggingLake()), { silver: 1, gold: 1 });
});

keep.run();
