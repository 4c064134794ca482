// How the lineage reads a replay's two commits (docs/curation.md): silver's append of replayed rows
// and silver.rejected's overwrite without them, both naming the replay; and replay's pure plan.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { candidateFates, replayReasons } from '../../jobs/curate/replay-plan.ts';
import {
  consistentCut,
  replayInput,
  replaysStillQuarantined,
  silverConsumedBronzeOnce,
  silverInput,
  type LakeMetadata,
} from '../../jobs/lake/lineage.ts';
import { summaryKeys } from '../../jobs/lake/table-schema.ts';
import { bronzeOffsets, consumedBronze, consumedSilver, History } from '../support/history.ts';

const replay = (id: string) => ({ [summaryKeys.replayId]: id });
const bronze = () => new History().append(1, bronzeOffsets(0, 10)).append(2, bronzeOffsets(10, 20));
/** Silver ran twice (101, 102), then replay R appended 103 (repeating silver's marker). */
const silver = () =>
  new History()
    .append(101, consumedBronze(1))
    .append(102, consumedBronze(2))
    .append(103, { ...consumedBronze(2), ...replay('R') });
const rejectedBefore = () => new History().append(201, consumedBronze(1)).append(202, consumedBronze(2));
const rejectedAfter = () => rejectedBefore().overwrite(203, replay('R'));
const cutIds = (lake: LakeMetadata) =>
  Object.fromEntries(
    Object.entries(consistentCut(lake).snapshots).map(([k, s]) => [k, s ? Number(s['snapshot-id']) : undefined]),
  );

const lineage = suite("a replay's commits in the lineage");

lineage(
  'the replay consumes nothing of bronze: silver has nothing pending, and covers every bronze snapshot once',
  () => {
    const lake = {
      bronze: bronze().metadata(),
      silver: silver().metadata(),
      rejected: rejectedAfter().metadata(),
      gold: new History().overwrite(301, consumedSilver(103)).metadata(),
    };
    const input = silverInput(lake.bronze, lake.silver, lake.rejected);
    assert.equal([input.recover.length, input.pending.length], [0, 0]);
    assert.is(silverConsumedBronzeOnce(lake, consistentCut(lake)), undefined);
    assert.equal(cutIds(lake), { bronze: 2, silver: 103, rejected: 203, gold: 301 });
    assert.equal(replayInput(lake.silver, lake.rejected), { bronzeMarker: 2n, unfinished: [] });
  },
);

lineage('gold has not seen the replay: the cut is the lake before it, both commits ahead', () => {
  const lake = {
    bronze: bronze().metadata(),
    silver: silver().metadata(),
    rejected: rejectedAfter().metadata(),
    gold: new History().overwrite(301, consumedSilver(102)).metadata(),
  };
  assert.equal(cutIds(lake), { bronze: 2, silver: 102, rejected: 202, gold: 301 });
  assert.equal(consistentCut(lake).ahead, { silver: 1, rejected: 1 });
});

lineage('died between the commits: the next replay completes R; verify counts its rows once, in silver', () => {
  const before = {
    bronze: bronze().metadata(),
    silver: silver().metadata(),
    rejected: rejectedBefore().metadata(),
    gold: new History().overwrite(301, consumedSilver(102)).metadata(),
  };
  assert.equal(replayInput(before.silver, before.rejected).unfinished, [{ id: 'R', silverSnapshot: 103n }]);
  assert.equal(replaysStillQuarantined(before, consistentCut(before)).size, 0, 'gold has not seen it: beyond the cut');
  const goldRan = { ...before, gold: new History().overwrite(301, consumedSilver(103)).metadata() };
  assert.equal(cutIds(goldRan), { bronze: 2, silver: 103, rejected: 202, gold: 301 });
  assert.equal([...replaysStillQuarantined(goldRan, consistentCut(goldRan))], [103n]);
});

lineage('a replay whose silver append was expired still counts its overwrite', () => {
  const lake = {
    bronze: bronze().metadata(),
    silver: silver().expireThrough(102).metadata(),
    rejected: rejectedAfter().metadata(),
    gold: new History().overwrite(301, consumedSilver(103)).metadata(),
  };
  assert.is(cutIds(lake).rejected, 203);
});

const plan = suite("replay's plan");

plan('--reason: every replayable reason by default; unknown, empty and duplicate refused naming the flag', () => {
  assert.ok(replayReasons(undefined, []).has('unknown_type'));
  assert.not.ok(replayReasons(undefined, []).has('duplicate'));
  assert.equal([...replayReasons('unknown_type,out_of_range', [])], ['unknown_type', 'out_of_range']);
  assert.equal([...replayReasons('unknown_type', ['out_of_range'])], ['unknown_type', 'out_of_range']);
  assert.throws(() => replayReasons('nope', []), /--reason: "nope" is not a reason code/);
  assert.throws(() => replayReasons('true', []), /--reason: needs a reason code/);
  assert.throws(() => replayReasons('duplicate', []), /never replayed/);
  assert.throws(() => replayReasons(undefined, ['stray']), /stray: replay takes no arguments/);
});

plan('an event silver holds wins; among replayed rows the first in (partition, offset) order', () => {
  const a = { partition: 1, offset: 5, vehicleId: 'V', eventTime: 10 };
  const b = { partition: 0, offset: 9, vehicleId: 'V', eventTime: 10 };
  const c = { partition: 0, offset: 1, vehicleId: 'W', eventTime: 10 };
  const fates = candidateFates([a, b, c], new Map([['10\u0000W', { partition: 2, offset: 0 }]]));
  assert.equal(fates.get(b), { kind: 'silver' });
  assert.equal(fates.get(a), { kind: 'duplicate', of: { partition: 0, offset: 9 } });
  assert.equal(fates.get(c), { kind: 'duplicate', of: { partition: 2, offset: 0 } });
});

lineage.run();
plan.run();
