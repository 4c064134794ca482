import fs from 'node:fs';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import type { Config } from './config.ts';
import { InvariantError } from './errors.ts';
import { reasonCodes, validateObject, type ReasonCode } from './events/validate.ts';
import { GoldAggregator } from './gold/aggregate.ts';
import { createKafka, waitForKafka, withAdmin } from './kafka/client.ts';
import type { LoadedTable } from './lake/iceberg/catalog.ts';
import { localPath } from './lake/iceberg/manifest.ts';
import { lineage, type SnapshotId } from './lake/iceberg/metadata.ts';
import { liveFiles, type LiveFile } from './lake/iceberg/table.ts';
import { changesAfter, findTable, headOf, snapshotIdOf, type TableKey } from './lake/lake.ts';
import { expiredOffsetsOf, gapsOf, nextOffsetsOf, offsetRangesOf } from './lake/offsets.ts';
import { readColumnBatches, readRows } from './lake/parquet-source.ts';
import { goldColumns, summaryKeys, type GoldRow } from './lake/table-schema.ts';
import type { Logger } from './log.ts';

export interface VerifySummary {
  readonly bronze: number;
  readonly silver: number;
  readonly rejected: number;
  readonly duplicates: number;
  readonly goldRows: number;
  readonly checked: string[];
}

/** One bit per offset of a partition's range `[first, end)`. */
class OffsetSet {
  private readonly bits: Uint8Array;
  constructor(readonly first: number, readonly end: number) {
    this.bits = new Uint8Array(Math.ceil(Math.max(0, end - first) / 8));
  }
  has(offset: number): boolean {
    const i = offset - this.first;
    return (this.bits[i >> 3] & (1 << (i & 7))) !== 0;
  }
  /** Adds the offset; false when it was already there. */
  add(offset: number): boolean {
    const i = offset - this.first;
    if (this.has(offset)) return false;
    this.bits[i >> 3] |= 1 << (i & 7);
    return true;
  }
  contains(offset: number): boolean {
    return offset >= this.first && offset < this.end;
  }
  firstMissing(): number | undefined {
    for (let o = this.first; o < this.end; o++) if (!this.has(o)) return o;
    return undefined;
  }
}

/** What the checks share: the tables' current snapshots and what earlier checks found. */
interface Lake {
  readonly config: Config;
  readonly logger: Logger;
  readonly tables: Record<TableKey, LoadedTable | undefined>;
  readonly files: Record<TableKey, LiveFile[]>;
  /** Per Kafka partition, the offsets bronze holds, from its snapshots' summaries. */
  bronzeRanges: Map<number, OffsetSet>;
  counts: { bronze: number; silver: number; rejected: number; duplicates: number; goldRows: number };
  aggregate: GoldAggregator;
  reasons: Partial<Record<ReasonCode, number>>;
}

type Check = { readonly name: string; readonly run: (lake: Lake) => Promise<Record<string, unknown> | void> };

function fail(invariant: string, message: string): never {
  throw new InvariantError(invariant, message);
}

const tableNames: Record<TableKey, string> = { bronze: 'bronze.vehicles', silver: 'silver.vehicles', rejected: 'silver.rejected', gold: 'gold.stats' };

const everyTableHasASnapshot: Check = {
  name: 'every table has a snapshot',
  async run(lake) {
    for (const key of ['bronze', 'silver', 'gold'] as const) {
      if (!headOf(lake.tables[key])) {
        fail(this.name, `${tableNames[key]} has no snapshot under ${lake.config.dataDir}; did the ${key} job run?`);
      }
    }
  },
};

const dataFilesMatchMetadata: Check = {
  name: 'every data file is whole and as the metadata describes it',
  async run(lake) {
    let files = 0;
    for (const key of Object.keys(lake.files) as TableKey[]) {
      for (const { file } of lake.files[key]) {
        const local = localPath(file.path);
        if (!fs.existsSync(local)) fail(this.name, `${tableNames[key]}: data file ${local} is missing`);
        const size = fs.statSync(local).size;
        if (size !== file.fileSizeInBytes) fail(this.name, `${tableNames[key]}: ${local} has ${size} bytes, the manifest says ${file.fileSizeInBytes}`);
        let rows: number;
        try {
          rows = Number((await parquetMetadataAsync(await asyncBufferFromFile(local))).num_rows);
        } catch (error) {
          fail(this.name, `${tableNames[key]}: ${local} is not a readable Parquet file (${(error as Error).message})`);
        }
        if (rows !== file.recordCount) fail(this.name, `${tableNames[key]}: ${local} holds ${rows} rows, the manifest says ${file.recordCount}`);
        files++;
      }
    }
    return { files };
  },
};

const bronzeSnapshotsAreContiguous: Check = {
  name: "bronze's snapshots hold contiguous offsets",
  async run(lake) {
    const chain = lineage(lake.tables.bronze!.metadata).reverse();
    const next = new Map<number, number>();
    const first = new Map<number, number>();
    // What the snapshots maintain expired recorded comes first, from the table's properties.
    const expired = [...expiredOffsetsOf(lake.tables.bronze!.metadata.properties).ranges].flatMap(([p, list]) => list.map((r) => [p, r] as const));
    const recorded = [
      { id: 'expired (table properties)', ranges: expired, snapshot: undefined },
      ...chain.filter((s) => s.summary.operation === 'append').map((s) => ({ id: String(s['snapshot-id']), ranges: [...offsetRangesOf(s)], snapshot: s })),
    ];
    for (const { id, ranges, snapshot } of recorded) {
      for (const [partition, [from, to]] of ranges) {
        const expected = next.get(partition);
        if (expected !== undefined && from !== expected) {
          fail(this.name, `partition ${partition}: snapshot ${id} starts at offset ${from}, the one before ended at ${expected}`);
        }
        if (!first.has(partition)) first.set(partition, from);
        next.set(partition, to);
      }
      if (!snapshot) continue;
      const recordedNext = nextOffsetsOf(snapshot);
      for (const [partition, to] of next) {
        if (recordedNext.get(partition) !== to) fail(this.name, `partition ${partition}: snapshot ${snapshot['snapshot-id']} records next offset ${recordedNext.get(partition)}, its ranges end at ${to}`);
      }
    }
    lake.bronzeRanges = new Map([...first].map(([p, f]) => [p, new OffsetSet(f, next.get(p)!)]));
    return { snapshots: chain.length, partitions: Object.fromEntries([...lake.bronzeRanges].map(([p, s]) => [p, [s.first, s.end]])) };
  },
};

const noRecordWasLost: Check = {
  name: 'no Kafka record was lost before bronze read it',
  async run(lake) {
    const lost: string[] = [];
    for (const [partition, ranges] of expiredOffsetsOf(lake.tables.bronze!.metadata.properties).gaps) {
      for (const [from, to] of ranges) lost.push(`partition ${partition} offsets ${from}..${to - 1} (${to - from} records, an expired bronze snapshot)`);
    }
    for (const snapshot of lineage(lake.tables.bronze!.metadata).reverse()) {
      for (const [partition, ranges] of gapsOf(snapshot)) {
        for (const [from, to] of ranges) lost.push(`partition ${partition} offsets ${from}..${to - 1} (${to - from} records, bronze snapshot ${snapshot['snapshot-id']})`);
      }
    }
    if (lost.length > 0) fail(this.name, `Kafka deleted records before bronze read them (retention shorter than the pipeline's delay?): ${lost.join('; ')}`);
  },
};

const everyRecordInBronzeOnce: Check = {
  name: 'every record is in bronze exactly once',
  async run(lake) {
    for await (const { partition, offset, file } of offsetsOf(lake.files.bronze, 'partition', 'offset')) {
      const set = lake.bronzeRanges.get(partition);
      if (!set || !set.contains(offset)) fail(this.name, `${file} holds partition ${partition} offset ${offset}, which no bronze snapshot records`);
      if (!set.add(offset)) fail(this.name, `partition ${partition} offset ${offset} is in bronze twice`);
      lake.counts.bronze++;
    }
    for (const [partition, set] of lake.bronzeRanges) {
      const missing = set.firstMissing();
      if (missing !== undefined) fail(this.name, `partition ${partition} offset ${missing} is missing from bronze`);
    }
    return { bronze: lake.counts.bronze };
  },
};

const bronzeEndsWhereKafkaCommitted: Check = {
  name: "bronze ends where Kafka's committed offsets are",
  async run(lake) {
    if (!lake.config.verifyKafka) return { skipped: 'LAKEHOUSE_VERIFY_KAFKA=false' };
    const committed = await committedOffsets(lake.config, lake.logger);
    const recorded = nextOffsetsOf(headOf(lake.tables.bronze));
    for (const [partition, next] of recorded) {
      if (committed.get(partition) !== next) {
        fail(this.name, `partition ${partition}: bronze ends before offset ${next} but the group ${lake.config.consumerGroup} committed ${committed.get(partition) ?? 'nothing'}`);
      }
    }
    return { committed: Object.fromEntries(committed) };
  },
};

const silverCoversEveryBronzeSnapshotOnce: Check = {
  name: 'silver covers every bronze snapshot once',
  async run(lake) {
    const bronze = lake.tables.bronze!;
    const bronzeOrder = new Map(lineage(bronze.metadata).reverse().map((s, i) => [s['snapshot-id'], i]));
    const bronzeExpired = expiredOffsetsOf(bronze.metadata.properties).ranges.size > 0;
    let last = -1;
    let lastMarker: SnapshotId | undefined;
    for (const snapshot of lineage(lake.tables.silver!.metadata).reverse()) {
      // Compaction's snapshots carry their parent's marker; they consume nothing.
      if (snapshot.summary.operation === 'replace') continue;
      const marker = snapshotIdOf(snapshot.summary[summaryKeys.bronzeSnapshot]);
      const position = marker === undefined ? undefined : bronzeOrder.get(marker);
      // A marker older than bronze's retained history names a snapshot maintain expired.
      if (position === undefined && marker !== undefined && bronzeExpired && last === -1) continue;
      if (position === undefined) fail(this.name, `silver snapshot ${snapshot['snapshot-id']} records bronze snapshot ${marker ?? '(none)'}, which is not in bronze's history`);
      if (position <= last) fail(this.name, `silver snapshot ${snapshot['snapshot-id']} consumed bronze snapshot ${marker} again`);
      last = position;
      lastMarker = marker;
    }
    const unread = lastMarker === undefined ? undefined : changesAfter(bronze, lastMarker);
    if (!unread || unread.length > 0) fail(this.name, `silver has not consumed bronze's current snapshot ${headOf(bronze)!['snapshot-id']}; run silver`);
  },
};

const everySilverRowPassesTheRules: Check = {
  name: 'every silver row passes the rules',
  async run(lake) {
    const placed = placement(lake);
    for (const { file } of lake.files.silver) {
      const columns = ['vehicle_id', 'type', 'latitude', 'longitude', 'battery', 'event_time', 'source_partition', 'source_offset'];
      for await (const { rows, columns: c } of readColumnBatches(localPath(file.path), columns)) {
        for (let i = 0; i < rows; i++) {
          const result = validateObject({
            vehicleId: c.vehicle_id[i], type: c.type[i], latitude: c.latitude[i], longitude: c.longitude[i],
            battery: c.battery[i], timestamp: c.event_time[i],
          });
          if (!result.ok) fail(this.name, `${localPath(file.path)} row ${i}: ${result.reason}: ${result.detail}`);
          placed('silver', c.source_partition[i] as number, c.source_offset[i] as number);
          const e = result.event;
          lake.aggregate.add({ vehicleId: e.vehicleId, type: e.type, battery: e.battery, latitude: e.latitude, longitude: e.longitude, eventTime: e.timestamp });
          lake.counts.silver++;
        }
      }
    }
    for await (const { partition, offset, reason, file } of offsetsOf(lake.files.rejected, 'source_partition', 'source_offset', 'reason')) {
      if (!reasonCodes.includes(reason as ReasonCode)) fail('every rejected row has a reason code', `${file}: unknown reason "${reason}"`);
      lake.reasons[reason as ReasonCode] = (lake.reasons[reason as ReasonCode] ?? 0) + 1;
      placed('rejected', partition, offset);
      lake.counts.rejected++;
    }
    return { silver: lake.counts.silver };
  },
};

/** Marks where silver and rejected put each bronze record; a record placed twice or not from bronze fails. */
function placement(lake: Lake) {
  const name = 'silver + rejected + duplicates = bronze';
  const placed = new Map([...lake.bronzeRanges].map(([p, s]) => [p, new OffsetSet(s.first, s.end)]));
  return (table: string, partition: number, offset: number) => {
    const set = placed.get(partition);
    if (!set || !set.contains(offset)) fail(name, `${table} has partition ${partition} offset ${offset}, which is not in bronze`);
    if (!set.add(offset)) fail(name, `partition ${partition} offset ${offset} is in silver/rejected twice`);
  };
}

const silverAndRejectedEqualBronze: Check = {
  name: 'silver + rejected + duplicates = bronze',
  async run(lake) {
    const { silver, rejected, bronze } = lake.counts;
    const duplicates = lake.reasons.duplicate ?? 0;
    lake.counts.duplicates = duplicates;
    if (silver + rejected !== bronze) {
      fail(this.name, `silver ${silver} + rejected ${rejected - duplicates} + duplicates ${duplicates} = ${silver + rejected}, bronze ${bronze}`);
    }
    return { silver, rejected: rejected - duplicates, duplicates, bronze, reasons: lake.reasons };
  },
};

const goldEqualsAggregationOfSilver: Check = {
  name: 'gold equals a fresh aggregation of silver',
  async run(lake) {
    const gold: GoldRow[] = [];
    for await (const row of readRows(lake.files.gold.map((f) => localPath(f.file.path)), goldColumns)) gold.push(row);
    lake.counts.goldRows = gold.length;
    const marker = snapshotIdOf(headOf(lake.tables.gold)!.summary[summaryKeys.silverSnapshot]);
    const silverHead = headOf(lake.tables.silver)!['snapshot-id'];
    const unread = marker === undefined ? undefined : changesAfter(lake.tables.silver!, marker);
    if (!unread || unread.length > 0) fail(this.name, `gold was computed from silver snapshot ${marker}, silver is at ${silverHead}; run gold`);
    const goldEvents = gold.reduce((sum, r) => sum + r.event_count, 0);
    if (goldEvents !== lake.counts.silver) fail('sum of gold event_count = silver rows', `gold counts ${goldEvents} events, silver has ${lake.counts.silver}`);
    const expected = lake.aggregate.rows(0);
    const goldTypes = gold.map((r) => r.type).sort().join(',');
    const silverTypes = expected.map((r) => r.type).join(',');
    if (goldTypes !== silverTypes) fail('one gold row per type present', `gold has types [${goldTypes}], silver has [${silverTypes}]`);
    for (const want of expected) {
      const got = gold.find((r) => r.type === want.type)!;
      for (const column of goldColumns) {
        if (column.name === 'computed_at') continue;
        const a = got[column.name] as number;
        const b = want[column.name] as number;
        if (!(a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)))) fail(this.name, `type ${want.type}: ${column.name} is ${a}, silver gives ${b}`);
      }
    }
    return { goldEvents, types: goldTypes };
  },
};

/** The invariants, in the order they are checked; each one may rely on what the ones before it found. */
export const checks: readonly Check[] = [
  everyTableHasASnapshot,
  dataFilesMatchMetadata,
  bronzeSnapshotsAreContiguous,
  noRecordWasLost,
  everyRecordInBronzeOnce,
  bronzeEndsWhereKafkaCommitted,
  silverCoversEveryBronzeSnapshotOnce,
  everySilverRowPassesTheRules,
  silverAndRejectedEqualBronze,
  goldEqualsAggregationOfSilver,
];

/** Checks every invariant of the lake (DESIGN.md) on the tables' current snapshots; throws at the first that fails. */
export async function runVerify(config: Config, logger: Logger): Promise<VerifySummary> {
  const tables = {
    bronze: findTable(config.dataDir, 'bronze'), silver: findTable(config.dataDir, 'silver'),
    rejected: findTable(config.dataDir, 'rejected'), gold: findTable(config.dataDir, 'gold'),
  };
  const files = {} as Record<TableKey, LiveFile[]>;
  for (const key of Object.keys(tables) as TableKey[]) files[key] = tables[key] && headOf(tables[key]) ? await liveFiles(tables[key]!) : [];
  const lake: Lake = {
    config, logger, tables, files, bronzeRanges: new Map(),
    counts: { bronze: 0, silver: 0, rejected: 0, duplicates: 0, goldRows: 0 },
    aggregate: new GoldAggregator(), reasons: {},
  };
  const checked: string[] = [];
  for (const check of checks) {
    const fields = await check.run(lake);
    checked.push(check.name);
    logger.info(`ok: ${check.name}`, fields ?? {});
  }
  const { bronze, silver, rejected, duplicates, goldRows } = lake.counts;
  const summary = { bronze, silver, rejected: rejected - duplicates, duplicates, goldRows, checked };
  logger.info('lake verified', summary);
  return summary;
}

async function* offsetsOf(files: readonly LiveFile[], partitionColumn: string, offsetColumn: string, reasonColumn?: string) {
  for (const { file } of files) {
    const local = localPath(file.path);
    const columns = reasonColumn ? [partitionColumn, offsetColumn, reasonColumn] : [partitionColumn, offsetColumn];
    for await (const { rows, columns: c } of readColumnBatches(local, columns)) {
      for (let i = 0; i < rows; i++) {
        yield { partition: c[partitionColumn][i] as number, offset: c[offsetColumn][i] as number, reason: reasonColumn ? (c[reasonColumn][i] as string) : '', file: local };
      }
    }
  }
}

async function committedOffsets(config: Config, logger: Logger): Promise<Map<number, number>> {
  const kafka = createKafka(config, logger);
  await waitForKafka(kafka, config, logger);
  return withAdmin(kafka, async (admin) => {
    const [topic] = await admin.fetchOffsets({ groupId: config.consumerGroup, topics: [config.topic] });
    return new Map((topic?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  });
}
