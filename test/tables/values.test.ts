import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { duckdbRowsOf, localPath } from '../support/iceberg-readers.ts';
import { icebergTypeOfSpark, normaliseRows, normaliseValue } from '../support/iceberg-values.ts';

test('transport values become one normal form whichever reader produced them', () => {
  assert.is(normaliseValue('timestamptz', 1697203200000123, 't'), 1697203200000.123);
  assert.is(normaliseValue('timestamptz', 1697203200000000n, 't'), 1697203200000);
  assert.is(normaliseValue('long', 2n ** 40n, 'l'), 2 ** 40);
  assert.is(normaliseValue('long', 7, 'l'), 7);
  assert.is(normaliseValue('double', Number.NaN, 'd'), 'NaN');
  assert.is(normaliseValue('double', 'Infinity', 'd'), 'Infinity');
  assert.is(normaliseValue('double', -0.5, 'd'), -0.5);
  assert.is(normaliseValue('binary', '/wD+Jw==', 'b'), '/wD+Jw==');
  assert.is(normaliseValue('string', undefined, 's'), null);
});

test('a long beyond 2^53 is refused, never rounded, from Python (string) or DuckDB (bigint)', () => {
  assert.throws(
    () => normaliseValue('long', '9007199254740993', 'offset'),
    /offset: 9007199254740993 is not an integer within/,
  );
  assert.throws(() => normaliseValue('long', 2n ** 53n + 1n, 'offset'), /not an integer within/);
  assert.throws(() => normaliseValue('timestamptz', 1.5, 't'), /not an integer/);
  assert.throws(() => normaliseValue('double', 'lots', 'd'), /not a double/);
  assert.throws(() => normaliseValue('binary', 3, 'b'), /expected a base64 string/);
});

test('rows are sorted the same way whatever the order of their columns; unknown columns are refused', () => {
  const columns = [
    { name: 'a', type: 'int' },
    { name: 'b', type: 'string' },
  ] as const;
  const one = normaliseRows(columns, [
    { a: 2, b: 'x' },
    { a: 1, b: 'y' },
  ]);
  const other = normaliseRows(columns, [
    { b: 'y', a: 1 },
    { b: 'x', a: 2 },
  ]);
  assert.equal(one, other);
  assert.equal(
    one.map((r) => r.a),
    [1, 2],
  );
  assert.throws(() => normaliseRows(columns, [{ a: 1, b: 'x', c: 3 }]), /columns not in the schema: c/);
});

test("Spark types map to the lake's Iceberg types, and no others", () => {
  assert.is(icebergTypeOfSpark('bigint'), 'long');
  assert.is(icebergTypeOfSpark('timestamp'), 'timestamptz');
  assert.throws(() => icebergTypeOfSpark('timestamp_ntz'), /not one the lake uses/);
});

test('manifest locations become local paths; DuckDB refuses a table with delete files', async () => {
  assert.is(localPath('file:/lake/silver/vehicles/data/a.parquet'), '/lake/silver/vehicles/data/a.parquet');
  assert.is(localPath('file:///lake/x%20y.parquet'), '/lake/x y.parquet');
  assert.is(localPath('/lake/a.parquet'), '/lake/a.parquet');
  assert.throws(() => localPath('s3://bucket/a.parquet'), /neither a file: URI nor an absolute path/);
  const read = {
    table: 'silver.vehicles',
    metadataFile: '',
    versionHint: '1',
    formatVersion: 2,
    currentSnapshotId: '1',
    readSnapshotId: '1',
    schema: [],
    partitionSpec: [],
    snapshots: [],
    files: [{ path: '/lake/a.parquet', records: 1, deleteFiles: ['/lake/a-deletes.parquet'] }],
  };
  try {
    await duckdbRowsOf(read);
    assert.unreachable('a table with delete files was read');
  } catch (error) {
    assert.match(String(error), /1 data files have delete files/);
  }
});

test.run();
