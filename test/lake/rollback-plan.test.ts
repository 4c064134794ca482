// The rollback's plan (jobs/lake/rollback-plan.ts) and the history a rollback snapshot leaves
// (iceberg/metadata.ts `lineage`), on table metadata built in memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../jobs/errors.ts';
import { consistentCut, silverConsumedBronzeOnce, silverInput } from '../../jobs/lake/lineage.ts';
import { lossOf, parseTarget, planRollback } from '../../jobs/lake/rollback-plan.ts';
import { summaryKeys } from '../../jobs/lake/table-schema.ts';
import { bronzeOffsets, consumedBronze, consumedSilver, History } from '../support/history.ts';

const ids = (list: readonly { 'snapshot-id': bigint }[]) => list.map((s) => Number(s['snapshot-id']));

/** Three pipeline runs: bronze 1..3, silver 101..103, gold 301..303. */
const lake = () => ({
  bronze: new History()
    .append(1, bronzeOffsets(0, 10))
    .append(2, bronzeOffsets(10, 20))
    .append(3, bronzeOffsets(20, 30)),
  silver: new History().append(101, consumedBronze(1)).append(102, consumedBronze(2)).append(103, consumedBronze(3)),
  // Only the third run had rejects.
  rejected: new History().append(203, consumedBronze(3)),
  gold: new History()
    .overwrite(301, consumedSilver(101))
    .overwrite(302, consumedSilver(102))
    .overwrite(303, consumedSilver(103)),
});
const metadataOf = (l: ReturnType<typeof lake>) => ({
  bronze: l.bronze.metadata(),
  silver: l.silver.metadata(),
  rejected: l.rejected.metadata(),
  gold: l.gold.metadata(),
});

test('--to: a gold snapshot id or an ISO time; anything else, empty or missing is a ConfigError naming --to', () => {
  assert.equal(parseTarget('302'), { kind: 'snapshot', id: 302n, text: '302' });
  assert.is(parseTarget('2026-12-06T22:00:00Z').kind, 'time');
  for (const bad of [undefined, '', '  ', 'yesterday', '2026-13-45T99:00:00Z', '-3'])
    assert.throws(
      () => parseTarget(bad),
      (e: Error) => e instanceof ConfigError && e.setting === '--to',
    );
});

test('the plan restores the cut of gold 302 downstream first; rejected, without a snapshot at the cut, is emptied', () => {
  const plan = planRollback(metadataOf(lake()), parseTarget('302'));
  assert.equal(ids(Object.values(plan.cut).filter((s) => s !== undefined)), [2, 102, 302]);
  assert.equal(
    plan.steps.map((s) => [s.table, s.restore ? Number(s.restore['snapshot-id']) : null]),
    [
      ['gold', 302],
      ['silver', 102],
      ['rejected', null],
      ['bronze', 2],
    ],
  );
  const summary = (t: string) => plan.steps.find((s) => s.table === t)!.summary;
  assert.is(summary('gold')[summaryKeys.silverSnapshot], '102');
  assert.is(summary('silver')[summaryKeys.bronzeSnapshot], '2');
  assert.is(summary('bronze')[summaryKeys.nextOffsets], '{"0":20}');
  assert.equal([...plan.nextOffsets], [[0, 20]]);
  assert.equal(lossOf(plan, new Map([[0, 20]])), []);
  assert.equal(lossOf(plan, new Map([[0, 25]])), [{ partition: 0, from: 20, to: 25 }]);
});

test('after the rollback snapshots, the history goes on from the restored ones: verify passes and silver reads only what bronze reads again', () => {
  const l = lake();
  const plan = planRollback(metadataOf(l), parseTarget('302'));
  let id = 400;
  for (const step of plan.steps) l[step.table].overwrite(++id, step.summary);
  const rolledBack = metadataOf(l);
  const cut = consistentCut(rolledBack);
  assert.equal(ids(Object.values(cut.snapshots).filter((s) => s !== undefined)), [2, 102, 403, 401]);
  assert.is(silverConsumedBronzeOnce(rolledBack, cut), undefined);
  assert.equal(planRollback(rolledBack, parseTarget('302')).steps, [], 'run again, nothing left to do');

  l.bronze.append(5, bronzeOffsets(20, 30));
  const input = silverInput(l.bronze.metadata(), l.silver.metadata(), l.rejected.metadata());
  assert.equal(ids(input.pending), [5], 'bronze 3 was dropped, bronze 5 read it again');
  assert.equal(ids(input.recover), []);
});

test.run();
