/**
 * `replay` (docs/curation.md, "Replaying the quarantine") on a real broker: a lake built once whose
 * silver ran with scooters unknown, then replayed under the default types; each table read back by
 * PyIceberg. Copies of the built lake are replayed and killed with SIGKILL at each of its points.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freshCatalogLake } from '../support/objectstore-fixture.ts';
import { runSparkStage } from '../spark/run-job.ts';
import { requireSparkInstall } from '../spark/spark-install.ts';
import { pyiceberg, type TableRead } from '../support/iceberg-readers.ts';
import { describeFailure, newLake, runJob, type JobOutcome, type TestLake } from '../support/lake.ts';

const test = suite('replay');
let built: TestLake;
/** The built lake as PyIceberg reads it before any replay. */
let before: Record<string, TableRead>;

/** The settings of the runs after the rule was found too strict: the default vehicle types. */
const relaxed = (lake: TestLake) => {
  const { LAKEHOUSE_VEHICLE_TYPES: _, ...env } = lake.env;
  return env;
};

async function ok(job: string, env: Record<string, string>, args: string[] = []): Promise<JobOutcome> {
  const outcome = await runJob(job, env, args);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome;
}

const result = (outcome: JobOutcome) => outcome.lines.find((l) => l.msg === 'finished')?.result as Record<string, any>;

async function read(dir: string): Promise<Record<string, TableRead>> {
  const reads = await pyiceberg(dir, [
    { table: 'bronze.vehicles' },
    { table: 'silver.vehicles' },
    { table: 'silver.rejected' },
    { table: 'gold.stats' },
  ]);
  const [bronze, silver, rejected, gold] = reads;
  return { bronze, silver, rejected, gold };
}

const coordinateOf = (row: Record<string, unknown>, p = 'source_partition', o = 'source_offset') =>
  `${row[p]}:${row[o]}`;

/** Every bronze record exactly once in silver or the quarantine, as an independent reader sees it. */
function assertAccounted(tables: Record<string, TableRead>): void {
  const bronze = tables.bronze.rows!.map((r) => coordinateOf(r, 'partition', 'offset')).sort();
  const placed = [...tables.silver.rows!, ...tables.rejected.rows!].map((r) => coordinateOf(r)).sort();
  assert.equal(placed, bronze, 'silver + rejected = bronze, record by record');
  const events = tables.gold.rows!.reduce((sum, r) => sum + Number(r.event_count), 0);
  assert.is(events, tables.silver.rows!.length, 'gold counts every silver row');
}

/** The metadata files of the lake's four tables: a commit adds one. */
const metadataFiles = () =>
  ['bronze/vehicles', 'silver/vehicles', 'silver/rejected', 'gold/stats'].flatMap((t) =>
    fs.readdirSync(path.join(built.dir, t, 'metadata')).filter((f) => f.endsWith('.metadata.json')),
  );

const scooters = (rows: readonly Record<string, unknown>[]) => rows.filter((r) => r.reason === 'unknown_type').length;

test.before(async () => {
  built = await newLake('replay', {
    LAKEHOUSE_EVENTS: '200',
    LAKEHOUSE_INVALID_RATIO: '0.05',
    LAKEHOUSE_DUPLICATE_RATIO: '0.05',
    LAKEHOUSE_VEHICLE_TYPES: 'car,bike',
  });
  for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify']) await ok(job, built.env);
  before = await read(built.dir);
});

test('bad input: one line naming the problem, exit 2, the lake unchanged', async () => {
  const env = relaxed(built);
  const unchanged = metadataFiles();
  for (const [args, problem] of [
    [['--reason', 'no_such_reason'], /"no_such_reason" is not a reason code/],
    [['--reason', 'duplicate'], /duplicate rows .* never replayed/],
  ] as const) {
    const outcome = await runJob('replay', env, [...args]);
    assert.is(outcome.exitCode, 2, describeFailure(outcome));
    const errors = outcome.lines.filter((l) => l.level === 'error');
    assert.is(errors.length, 1);
    assert.match(String(errors[0].error), problem);
  }
  assert.equal(metadataFiles(), unchanged);
});

test('--dry-run prints what would move per reason and changes nothing', async () => {
  const env = relaxed(built);
  const unchanged = metadataFiles();
  const dry = result(await ok('replay', env, ['--dry-run']));
  const quarantined = scooters(before.rejected.rows!);
  assert.ok(quarantined > 0, 'the strict setting quarantined scooters');
  const unknown = dry.reasons.unknown_type;
  assert.is(unknown.silver + unknown.duplicate, quarantined, 'every scooter passes the default rules');
  assert.is(dry.reasons.duplicate, undefined, 'duplicates are never examined');
  assert.ok((dry.reasons.out_of_range?.stillRejected ?? 0) + (dry.reasons.missing_field?.stillRejected ?? 0) >= 0);
  assert.equal(metadataFiles(), unchanged);
  // Only another reason asked: nothing of unknown_type is examined.
  const other = result(await ok('replay', env, ['--dry-run', '--reason', 'out_of_range']));
  assert.is(other.reasons.unknown_type, undefined);
});

test('replay moves the quarantined scooters to silver once; gold and verify see them; twice changes nothing', async () => {
  const env = relaxed(built);
  const first = result(await ok('replay', env));
  const moved = scooters(before.rejected.rows!);
  assert.is(first.replayed + first.duplicates, moved);
  const after = await read(built.dir);
  assertAccounted(after);
  assert.is(after.silver.rows!.length, before.silver.rows!.length + first.replayed);
  assert.is(scooters(after.rejected.rows!), 0, 'no scooter left as unknown_type');
  assert.ok(after.silver.rows!.some((r) => r.type === 'scooter'));
  assert.ok(
    after.gold.rows!.some((r) => r.type === 'scooter'),
    'gold reflects the replayed rows',
  );
  const verified = result(await ok('verify', env));
  assert.is(verified.silver, after.silver.rows!.length);

  const unchangedAfterFirst = metadataFiles();
  const again = result(await ok('replay', env));
  assert.is(again.replayed, 0);
  assert.is(again.duplicates, 0);
  assert.equal(metadataFiles(), unchangedAfterFirst, 'the second replay commits nothing');
});

/** A new day of events through bronze, and silver under the strict setting: new scooters are quarantined. */
async function quarantineMore(): Promise<void> {
  const env = { ...built.env, LAKEHOUSE_START_TIME: '2023-10-15T08:00:00Z', LAKEHOUSE_EVENTS: '100' };
  for (const job of ['produce', 'bronze', 'silver', 'gold']) await ok(job, env);
}

/** Runs replay and kills it with SIGKILL at the log line `point`. */
async function killReplayAt(point: string): Promise<void> {
  let killed = false;
  const outcome = await runJob('replay', relaxed(built), [], (line, child) => {
    if (line.msg === point && !killed) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  assert.ok(killed, `the run reached "${point}"`);
  assert.is.not(outcome.exitCode, 0);
}

test('replay killed with SIGKILL before, between and after its commits: verify accepts each lake, the next replay completes it', async () => {
  // A new day through bronze and silver after the replay above: incremental runs drop and double nothing (checked at the end).
  await quarantineMore();
  const env = relaxed(built);
  const ahead = async () => result(await ok('verify', env)).snapshotsAhead as Record<string, number>;
  await killReplayAt('replay plan');
  await ok('verify', env);
  // After both commits, before its gold run.
  await killReplayAt('silver.rejected committed');
  assert.equal(await ahead(), { 'silver.vehicles': 1, 'silver.rejected': 1 }, 'verify checks the lake as gold saw it');
  // Between the commits: the state of a run killed right after committing silver (silver.rejected
  // rolled back to its version before the replay; its new data files stay, unreferenced).
  const metadata = path.join(built.dir, 'silver/rejected/metadata');
  const latest = Math.max(
    ...fs
      .readdirSync(metadata)
      .filter((f) => /^v\d+\.metadata\.json$/.test(f))
      .map((f) => Number(/\d+/.exec(f)![0])),
  );
  fs.rmSync(path.join(metadata, `v${latest}.metadata.json`));
  fs.writeFileSync(path.join(metadata, 'version-hint.text'), String(latest - 1));
  assert.equal(await ahead(), { 'silver.vehicles': 1 });
  // A scheduled gold run may come before the next replay: the replayed rows are then in gold's
  // silver and still in the quarantine, and verify counts them once.
  await ok('gold', env);
  assert.equal(await ahead(), {});
  const completed = result(await ok('replay', env));
  assert.ok(completed.completed > 0, 'the next replay took the replayed rows out of the quarantine');
  assert.is(completed.replayed, 0, 'and had nothing more to move');
  await ok('verify', env);
  const after = await read(built.dir);
  assertAccounted(after);
  assert.is(scooters(after.rejected.rows!), 0);
  // Each replay run is in ops.runs: the refused ones failed with their one line, the others succeeded.
  const [runs] = await pyiceberg(built.dir, [{ table: 'ops.runs' }]);
  const replays = runs.rows!.filter((r) => r.stage === 'replay');
  assert.ok(replays.some((r) => r.outcome === 'failed' && /not a reason code/.test(String(r.error))));
  assert.ok(replays.filter((r) => r.outcome === 'succeeded').length >= 5);
  const silverCoordinates = new Set(after.silver.rows!.map((r) => coordinateOf(r)));
  assert.is(silverCoordinates.size, after.silver.rows!.length, 'no record twice in silver');
});

test('on the catalog lake (LAKEHOUSE_CATALOG=rest): replay moves the scooters, verify passes', async () => {
  const lake = await newLake('replay-catalog', {
    ...(await freshCatalogLake('replay')),
    LAKEHOUSE_EVENTS: '60',
    LAKEHOUSE_VEHICLE_TYPES: 'car,bike',
  });
  for (const job of ['topics', 'produce', 'bronze', 'silver']) await ok(job, lake.env);
  const replayed = result(await ok('replay', relaxed(lake)));
  assert.ok(replayed.replayed > 0, 'scooters moved to silver');
  const verified = result(await ok('verify', relaxed(lake)));
  assert.is(verified.silver + verified.rejected + verified.duplicates, 60);
  assert.is(result(await ok('replay', relaxed(lake))).replayed, 0, 'twice changes nothing');
});

test("the Spark engine's silver and gold keep working on the replayed lake; verify accepts what they add", async () => {
  requireSparkInstall();
  const env = { ...relaxed(built), LAKEHOUSE_START_TIME: '2023-10-16T08:00:00Z', LAKEHOUSE_EVENTS: '100' };
  for (const job of ['produce', 'bronze']) await ok(job, env);
  for (const stage of ['silver', 'gold'] as const) await runSparkStage(stage, env);
  const verified = result(await ok('verify', env));
  assert.equal(verified.snapshotsAhead, {});
  assert.is(verified.bronze, 200 + 100 + 100, 'three produce runs');
});

test.run();
