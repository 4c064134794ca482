/**
 * Silver's DuckDB baseline (dev/bench/silver-baseline.ts) on a lake built without Kafka: the
 * producer's own mix (invalid and duplicate events) plus values where DuckDB's JSON reads
 * differently from JSON.parse, over several bronze snapshots; its counts must be silver's, and a
 * lake whose silver differs must make it throw, naming the difference.
 */
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareSilverCounts, duckdbSilverBaseline, lakeSilverCounts } from '../../dev/bench/silver-baseline.ts';
import { generateRecords } from '../../jobs/events/generate.ts';
import { reasonCodes } from '../../jobs/events/rules.ts';
import { BuiltLake, event, failure } from '../support/built-lake.ts';

const baseline = suite('silver baseline (DuckDB)');

const quiet = () => {};
const produced = Array.from(
  generateRecords(3000, { seed: 11, invalidRatio: 0.05, duplicateRatio: 0.01 }),
  (r) => r.value,
);

/** Values both engines must classify alike, though DuckDB's JSON reader alone would not. */
const edges: (string | Uint8Array | null)[] = [
  null,
  Uint8Array.from([0x7b, 0xc3, 0x28, 0x7d]), // not UTF-8
  Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from(event(1))]), // a BOM: not JSON
  event(2).replace(/"battery":\d+/, '"battery":1e400'), // JSON, but not a finite number
  event(3).replace(/"latitude":[^,]+/, '"latitude":-Infinity'),
  event(4).replace(/"longitude":[^,]+/, '"longitude":inf'),
  event(5).replace(/}$/, ',}'), // a trailing comma
  event(6).replace(/}$/, ',"note":"NaN, inf,]"}'), // those words inside a string are fine
  event(7).replace(/"battery":\d+/, '"battery":50.0'), // an integer written with a fraction
  event(8).replace(/"battery":\d+/, '"battery":50.5'),
  event(9, { vehicleId: '' }),
  event(10, { type: null }),
  event(11, { timestamp: 2 ** 53 }),
  event(12, { battery: true }),
  '[1,2]',
  '"text"',
  `  ${event(13)}\n`,
  event(14), // the same vehicle and time as event(14) of the first snapshot: a duplicate
  event(15).replace(/"timestamp":(\d+)/, (_, t) => `"timestamp":${Number(t) / 1000}e3`), // the same time, written otherwise
];

baseline("its counts are silver's on a lake of several snapshots; a silver that differs makes it throw", async () => {
  const lake = new BuiltLake('silver-baseline');
  try {
    await lake.bronze([...produced.slice(0, 1500), event(14), event(15)]);
    await lake.silver();
    await lake.bronze([...produced.slice(1500), ...edges]);
    await lake.silver();

    const silver = await lakeSilverCounts(lake.dir);
    // Every reason code shows up, so every rule is compared.
    for (const code of reasonCodes) assert.ok((silver.reasons[code] ?? 0) > 0, `no ${code} row in silver.rejected`);
    const result = await duckdbSilverBaseline(lake.dir, quiet);
    assert.is(result.validRows, silver.valid);
    assert.is(result.rejectedRows, silver.rejected);
    assert.is(result.validRows + result.rejectedRows, produced.length + 2 + edges.length);
    assert.ok(result.seconds > 0 && result.peakRssBytes > 0 && result.eventsPerSec > 0);

    // A bronze snapshot silver has not read: the baseline reads it, silver's counts are short.
    await lake.bronze([event(100), event(101, { battery: 101 })]);
    const error = await failure(() => duckdbSilverBaseline(lake.dir, quiet));
    assert.match(
      error.message,
      `valid rows: DuckDB ${silver.valid + 1}, silver ${silver.valid}; rejected rows: DuckDB ${silver.rejected + 1}, silver ${silver.rejected}; rejected out_of_range: DuckDB ${silver.reasons.out_of_range! + 1}, silver ${silver.reasons.out_of_range}`,
    );
  } finally {
    fs.rmSync(lake.dir, { recursive: true, force: true });
  }
});

baseline('the comparison names each count that differs, a reason only one side has included', () => {
  const same = { valid: 10, rejected: 3, reasons: { duplicate: 1, out_of_range: 2 } };
  compareSilverCounts(same, { ...same, reasons: { ...same.reasons } });
  assert.throws(
    () =>
      compareSilverCounts(same, { valid: 10, rejected: 3, reasons: { duplicate: 1, out_of_range: 1, wrong_type: 1 } }),
    (e: Error) =>
      e.message ===
      "the DuckDB baseline's counts are not silver's: rejected out_of_range: DuckDB 2, silver 1; rejected wrong_type: DuckDB 0, silver 1",
  );
});

baseline.run();
