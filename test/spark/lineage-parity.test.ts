// The Spark engine's reading of the lineage (jobs/spark/lakehouse_lineage.py) against the Node
// engine's (jobs/lake/lineage.ts) on the same table metadata, as JSON: what silver has to recover
// and read, and what gold has to read, for every history shape the unit tests build.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TableMetadata } from '../../jobs/lake/iceberg/metadata.ts';
import {
  erasedOffsets,
  erasureKeys,
  goldInput,
  LineageError,
  pendingErasure,
  silverInput,
} from '../../jobs/lake/lineage.ts';
import { summaryKeys } from '../../jobs/lake/table-schema.ts';
import { bronzeOffsets, consumedBronze, consumedSilver, History, metadataJson } from '../support/history.ts';
import { repoRoot, requireSparkInstall } from './spark-install.ts';

const bronze = () =>
  new History()
    .append(1, bronzeOffsets(0, 10))
    .append(2, bronzeOffsets(10, 20))
    .replace(3, bronzeOffsets(10, 20))
    .append(4, bronzeOffsets(20, 30));

interface Case {
  readonly name: string;
  readonly bronze?: TableMetadata;
  readonly silver?: TableMetadata;
  readonly rejected?: TableMetadata;
  readonly gold?: TableMetadata;
}

const cases: Case[] = [
  { name: 'new lake', bronze: bronze().metadata() },
  {
    name: 'rejected ahead',
    bronze: bronze().metadata(),
    silver: new History().append(101, consumedBronze(1)).metadata(),
    rejected: new History().append(201, consumedBronze(2)).metadata(),
  },
  {
    name: 'rejected behind',
    bronze: bronze().metadata(),
    silver: new History().append(101, consumedBronze(2)).metadata(),
    rejected: new History().append(201, consumedBronze(1)).metadata(),
  },
  {
    name: 'rejected expired',
    bronze: bronze().append(5, bronzeOffsets(30, 40)).expireThrough(2).metadata(),
    silver: new History().append(101, consumedBronze(4)).metadata(),
    rejected: new History().append(201, consumedBronze(1)).metadata(),
  },
  {
    name: 'foreign compaction of silver',
    bronze: bronze().metadata(),
    silver: new History().append(101, consumedBronze(2)).replace(102).metadata(),
  },
  {
    name: 'silver from another lake',
    bronze: bronze().metadata(),
    silver: new History().append(101, consumedBronze(42)).metadata(),
  },
  {
    name: 'two compactions while gold lagged',
    silver: new History()
      .append(101, consumedBronze(1))
      .append(102, consumedBronze(2))
      .replace(103, consumedBronze(2))
      .replace(104, consumedBronze(2))
      .metadata(),
    gold: new History().overwrite(301, consumedSilver(101)).metadata(),
  },
  {
    name: 'gold up to date after a compaction',
    silver: new History().append(101).replace(102).metadata(),
    gold: new History().overwrite(301, consumedSilver(101)).metadata(),
  },
  {
    name: "gold's silver snapshot expired",
    silver: new History().append(101).append(102).expireThrough(101).metadata(),
    gold: new History().overwrite(301, consumedSilver(101)).metadata(),
  },
  { name: 'no gold yet', silver: new History().append(101).overwrite(102).metadata() },
  {
    // rollback --to the cut of gold 301, then one bronze run: only what bronze read again is pending.
    name: 'rolled back',
    bronze: new History()
      .append(1, bronzeOffsets(0, 10))
      .append(2, bronzeOffsets(10, 20))
      .append(3, bronzeOffsets(20, 30))
      .overwrite(4, { [summaryKeys.rollback]: '2' })
      .append(5, bronzeOffsets(20, 30))
      .metadata(),
    silver: new History()
      .append(101, consumedBronze(2))
      .append(102, consumedBronze(3))
      .overwrite(103, { ...consumedBronze(2), [summaryKeys.rollback]: '101' })
      .metadata(),
    rejected: new History()
      .append(201, consumedBronze(3))
      .overwrite(202, { ...consumedBronze(2), [summaryKeys.rollback]: '201' })
      .metadata(),
    gold: new History()
      .overwrite(301, consumedSilver(101))
      .overwrite(302, consumedSilver(102))
      .overwrite(303, { ...consumedSilver(101), [summaryKeys.rollback]: '301' })
      .metadata(),
  },
  {
    name: 'after an erasure (forget), with a pending one',
    bronze: erased(bronze().overwrite(5, bronzeOffsets(20, 30)).expireThrough(4).append(6, bronzeOffsets(30, 40))),
    silver: new History().overwrite(101, consumedBronze(5)).metadata(),
    rejected: new History().overwrite(201, consumedBronze(5)).metadata(),
    gold: new History().overwrite(301, consumedSilver(101)).metadata(),
  },
];

/** A bronze history with what forget records: erased offsets and a pending erasure. */
function erased(history: History): TableMetadata {
  const metadata = history.metadata();
  return {
    ...metadata,
    properties: {
      ...metadata.properties,
      [erasureKeys.erasedOffsets]: JSON.stringify({
        0: [
          [3, 4],
          [7, 9],
        ],
        2: [[25, 26]],
      }),
      [erasureKeys.pending]: JSON.stringify({ run: 'run-1', salt: 's', vehicles: ['d'] }),
    },
  };
}

const ids = (list: readonly { 'snapshot-id': bigint }[]) => list.map((s) => Number(s['snapshot-id']));
const id = (value: bigint | undefined | null) => (value === undefined || value === null ? null : Number(value));

/** What the Node engine reads, in the Python module's terms. */
function node(c: Case) {
  let silver: unknown = null;
  if (c.bronze) {
    try {
      const input = silverInput(c.bronze, c.silver, c.rejected);
      silver = {
        bronze_head: id(input.bronzeHead?.['snapshot-id']),
        recover: ids(input.recover),
        pending: ids(input.pending),
      };
    } catch (error) {
      if (!(error instanceof LineageError)) throw error;
      silver = { error: error.message };
    }
  }
  const gold = c.silver ? goldInput(c.silver, c.gold) : undefined;
  return {
    silver,
    erased: c.bronze ? Object.fromEntries(erasedOffsets(c.bronze)) : null,
    pending: c.bronze ? (pendingErasure(c.bronze)?.run ?? null) : null,
    gold: gold
      ? {
          consumed: id(gold.consumed),
          up_to_date: gold.upToDate,
          appends_only: gold.appendsOnly,
          changes: ids(gold.changes),
        }
      : null,
  };
}

const script = `
import json, sys
from lakehouse_lineage import LineageError, erased_offsets, gold_input, pending_erasure_run, silver_input
keys, cases = json.loads(sys.stdin.read())
out = []
for c in cases:
    silver = None
    if c["bronze"] is not None:
        try:
            s = silver_input(c["bronze"], c["silver"], c["rejected"], keys)
            silver = {"bronze_head": s.bronze_head, "recover": s.recover, "pending": s.pending}
        except LineageError as error:
            silver = {"error": str(error)}
    gold = None
    if c["silver"] is not None:
        g = gold_input(c["silver"], c["gold"], keys)
        gold = {"consumed": g.consumed, "up_to_date": g.up_to_date, "appends_only": g.appends_only, "changes": g.changes}
    erased = None if c["bronze"] is None else {str(p): r for p, r in erased_offsets(c["bronze"]).items()}
    pending = None if c["bronze"] is None else pending_erasure_run(c["bronze"])
    out.append({"silver": silver, "erased": erased, "pending": pending, "gold": gold})
print(json.dumps(out))
`;

test('both engines read the same lineage from the same metadata', () => {
  const python = path.join(requireSparkInstall(), 'venv/bin/python');
  const input = JSON.stringify([
    summaryKeys,
    cases.map((c) => ({
      bronze: metadataJson(c.bronze),
      silver: metadataJson(c.silver),
      rejected: metadataJson(c.rejected),
      gold: metadataJson(c.gold),
    })),
  ]);
  const run = spawnSync(python, ['-c', script], {
    input,
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: path.join(repoRoot, 'jobs/spark') },
  });
  assert.is(run.status, 0, run.stderr);
  const spark = JSON.parse(run.stdout) as unknown[];
  for (const [i, c] of cases.entries()) assert.equal(spark[i], node(c), c.name);
  assert.ok(
    cases.some((c) => (node(c).silver as { error?: string } | null)?.error),
    'a case where both refuse',
  );
});

test.run();
