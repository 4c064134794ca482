/**
 * A lake of the four contract tables written by Spark SQL (CREATE TABLE in the `lakehouse` Hadoop
 * catalog, then INSERTs in two runs), with rows known in advance: what the readers must return.
 * Values are awkward on purpose: a null key, bytes that are not UTF-8, quotes and non-ASCII text,
 * a long beyond 2^32, microsecond timestamps, events on two days (two partitions of silver).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tables, type ColumnSpec, type IcebergType, type TableKey } from '../../jobs/lake/table-schema.ts';
import { normaliseRows, type Row } from '../support/iceberg-values.ts';
import { temporaryDir } from '../support/lake.ts';
import { sparkSqlFile } from '../support/spark-iceberg.ts';

/** A fixture value: timestamps in epoch microseconds (bigint), binary as bytes. */
type FixtureValue = string | number | bigint | Uint8Array | null;
type FixtureRow = Record<string, FixtureValue>;

const bytes = (text: string) => new TextEncoder().encode(text);
const us = (iso: string, micros = 0) => BigInt(Date.parse(iso)) * 1000n + BigInt(micros);

const run1: Record<TableKey, FixtureRow[]> = {
  bronze: [
    {
      key: bytes('CAR_000'),
      value: bytes(
        '{"vehicleId":"CAR_000","type":"car","latitude":48.8566,"longitude":2.3522,"battery":75,"timestamp":1697203200000}',
      ),
      topic: 'vehicles-events',
      partition: 0,
      offset: 0,
      kafka_timestamp: us('2023-10-13T13:20:00Z'),
      ingested_at: us('2026-01-01T00:00:00Z', 123),
    },
    {
      key: null,
      value: new Uint8Array([0xff, 0x00, 0xfe, 0x27]),
      topic: 'vehicles-events',
      partition: 1,
      offset: 2 ** 40,
      kafka_timestamp: us('2023-10-13T13:20:01Z'),
      ingested_at: us('2026-01-01T00:00:00Z', 456),
    },
    {
      key: bytes('BIKE_001'),
      value: null,
      topic: 'vehicles-events',
      partition: 2,
      offset: 7,
      kafka_timestamp: us('2023-10-13T13:20:02Z'),
      ingested_at: us('2026-01-01T00:00:00Z'),
    },
  ],
  silver: [
    {
      vehicle_id: 'CAR_000',
      type: 'car',
      latitude: 48.8566,
      longitude: 2.3522,
      battery: 75,
      event_time: us('2023-10-13T13:20:00Z'),
      source_partition: 0,
      source_offset: 0,
    },
    {
      vehicle_id: 'SCOOTER_002',
      type: 'scooter',
      latitude: -89.999999,
      longitude: 179.5,
      battery: 0,
      event_time: us('2023-10-13T23:59:59Z', 999_999),
      source_partition: 2,
      source_offset: 4_294_967_296,
    },
  ],
  rejected: [
    {
      raw_value: new Uint8Array([0xff, 0x00, 0xfe, 0x27]),
      key: null,
      source_partition: 1,
      source_offset: 2 ** 40,
      reason: 'malformed_json',
      field: null,
      detail: "it's not JSON: «\\xff»",
    },
  ],
  gold: [
    {
      type: 'car',
      event_count: 1,
      vehicle_count: 1,
      avg_battery: 75,
      min_battery: 75,
      max_battery: 75,
      avg_latitude: 48.8566,
      avg_longitude: 2.3522,
      first_event_at: us('2023-10-13T13:20:00Z'),
      last_event_at: us('2023-10-13T13:20:00Z'),
      computed_at: us('2026-01-01T00:00:01Z'),
    },
    {
      type: 'scooter',
      event_count: 1,
      vehicle_count: 1,
      avg_battery: 0,
      min_battery: 0,
      max_battery: 0,
      avg_latitude: -89.999999,
      avg_longitude: 179.5,
      first_event_at: us('2023-10-13T23:59:59Z', 999_999),
      last_event_at: us('2023-10-13T23:59:59Z', 999_999),
      computed_at: us('2026-01-01T00:00:01Z'),
    },
  ],
};

/** The second run appends to bronze, silver and rejected and replaces gold. */
const run2: Record<TableKey, FixtureRow[]> = {
  bronze: [
    {
      key: bytes('CAR_000'),
      value: bytes(
        '{"vehicleId":"CAR_000","type":"car","latitude":48.9,"longitude":2.4,"battery":74,"timestamp":1697241600000}',
      ),
      topic: 'vehicles-events',
      partition: 0,
      offset: 1,
      kafka_timestamp: us('2023-10-14T00:00:00Z'),
      ingested_at: us('2026-01-02T00:00:00Z'),
    },
  ],
  silver: [
    {
      vehicle_id: 'CAR_000',
      type: 'car',
      latitude: 48.9,
      longitude: 2.4,
      battery: 74,
      event_time: us('2023-10-14T00:00:00Z'),
      source_partition: 0,
      source_offset: 1,
    },
  ],
  rejected: [],
  gold: [
    {
      type: 'car',
      event_count: 2,
      vehicle_count: 1,
      avg_battery: 74.5,
      min_battery: 74,
      max_battery: 75,
      avg_latitude: (48.8566 + 48.9) / 2,
      avg_longitude: (2.3522 + 2.4) / 2,
      first_event_at: us('2023-10-13T13:20:00Z'),
      last_event_at: us('2023-10-14T00:00:00Z'),
      computed_at: us('2026-01-02T00:00:01Z'),
    },
    {
      type: 'scooter',
      event_count: 1,
      vehicle_count: 1,
      avg_battery: 0,
      min_battery: 0,
      max_battery: 0,
      avg_latitude: -89.999999,
      avg_longitude: 179.5,
      first_event_at: us('2023-10-13T23:59:59Z', 999_999),
      last_event_at: us('2023-10-13T23:59:59Z', 999_999),
      computed_at: us('2026-01-02T00:00:01Z'),
    },
  ],
};

const sparkTypes: Record<IcebergType, string> = {
  string: 'STRING',
  binary: 'BINARY',
  int: 'INT',
  long: 'BIGINT',
  double: 'DOUBLE',
  timestamptz: 'TIMESTAMP',
};

const quoted = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function literal(column: ColumnSpec, value: FixtureValue): string {
  if (value === null) return `CAST(NULL AS ${sparkTypes[column.type]})`;
  switch (column.type) {
    case 'string':
      return quoted(String(value));
    case 'binary':
      return `X'${Buffer.from(value as Uint8Array).toString('hex')}'`;
    case 'int':
      return `${value}`;
    case 'long':
      return `${value}L`;
    case 'double':
      return `CAST('${value}' AS DOUBLE)`;
    case 'timestamptz':
      return `TIMESTAMP_MICROS(${value}L)`;
  }
}

/** CREATE TABLE from the contract: Spark numbers the fields 1, 2, … in order, as the contract does. */
export function createTableSql(key: TableKey): string {
  const spec = tables[key];
  const columns = spec.columns.map(
    (c) => `  ${c.name} ${sparkTypes[c.type]}${c.nullable ? '' : ' NOT NULL'} COMMENT ${quoted(c.doc)}`,
  );
  const partitions = spec.partitionBy.map((p) => {
    const source = spec.columns.find((c) => c.id === p.sourceId)!.name;
    return p.transform === 'day' ? `days(${source})` : source;
  });
  return (
    `CREATE TABLE lakehouse.${spec.name} (\n${columns.join(',\n')}\n) USING iceberg` +
    (partitions.length ? ` PARTITIONED BY (${partitions.join(', ')})` : '') +
    ` TBLPROPERTIES ('format-version' = '2');`
  );
}

function insertSql(key: TableKey, rows: readonly FixtureRow[], overwrite: boolean): string {
  const spec = tables[key];
  const values = rows.map((row) => `(${spec.columns.map((c) => literal(c, row[c.name])).join(', ')})`);
  return `INSERT ${overwrite ? 'OVERWRITE' : 'INTO'} lakehouse.${spec.name} VALUES\n  ${values.join(',\n  ')};`;
}

/** A fixture row in the readers' normal form. */
function expected(key: TableKey, rows: readonly FixtureRow[]): Row[] {
  const transport = rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v]),
    ),
  );
  return normaliseRows(tables[key].columns, transport);
}

export interface FixtureLake {
  /** Every table's rows after the first run, and after the second (the current state). */
  readonly afterRun1: Record<TableKey, Row[]>;
  readonly afterRun2: Record<TableKey, Row[]>;
  /** Seconds the spark-sql run took. */
  readonly seconds: number;
}

const keys = Object.keys(tables) as TableKey[];

/**
 * Writes the fixture lake under `lakeRoot` in one spark-sql process (one JVM start): the tables,
 * then the first run's INSERTs, then the second's, each INSERT a commit (a snapshot) of its own.
 */
export async function writeSparkFixtureLake(lakeRoot: string): Promise<FixtureLake> {
  const statements = [
    ...keys.map(createTableSql),
    ...keys.map((k) => insertSql(k, run1[k], false)),
    ...keys.filter((k) => run2[k].length > 0).map((k) => insertSql(k, run2[k], k === 'gold')),
  ];
  const work = mkdtempSync(path.join(tmpdir(), 'lakehouse-fixture-sql-'));
  try {
    const file = path.join(work, 'fixture.sql');
    writeFileSync(file, statements.join('\n\n') + '\n');
    const { seconds } = await sparkSqlFile(lakeRoot, file);
    const current = (k: TableKey) => (k === 'gold' ? run2[k] : [...run1[k], ...run2[k]]);
    return {
      afterRun1: Object.fromEntries(keys.map((k) => [k, expected(k, run1[k])])) as Record<TableKey, Row[]>,
      afterRun2: Object.fromEntries(keys.map((k) => [k, expected(k, current(k))])) as Record<TableKey, Row[]>,
      seconds,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

let shared: Promise<FixtureLake & { readonly lake: string }> | undefined;

/**
 * One fixture lake per test process, shared by the test files that ask for it (spark-sql takes
 * tens of seconds) and removed when the process exits. Tests must leave it as they found it.
 */
export function sharedSparkFixtureLake(): Promise<FixtureLake & { readonly lake: string }> {
  shared ??= (async () => {
    const lake = temporaryDir('spark-fixture');
    process.once('exit', () => rmSync(lake, { recursive: true, force: true }));
    return { lake, ...(await writeSparkFixtureLake(lake)) };
  })();
  return shared;
}
