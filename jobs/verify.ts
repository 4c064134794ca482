import type { Config } from './config.ts';
import { InvariantError } from './errors.ts';
import { eventValidator, reasonCodes, type ReasonCode } from './events/validate.ts';
import { GoldAggregator } from './gold/aggregate.ts';
import { createKafka, waitForKafka, withAdmin } from './kafka/client.ts';
import type { LoadedTable } from './lake/iceberg/catalog.ts';
import { localPath } from './lake/iceberg/manifest.ts';
import { lineage, snapshotById, type Snapshot, type SnapshotId } from './lake/iceberg/metadata.ts';
import { liveFiles, type LiveFile } from './lake/iceberg/table.ts';
import { readDataFile, readDataRows } from './lake/data-file-source.ts';
import { findTable, headOf, snapshotIdOf, tables, type TableKey } from './lake/lake.ts';
import { DamagedFileError } from './lake/parquet-check.ts';
import { expiredOffsetsOf, gapsOf, nextOffsetsOf, offsetRangesOf } from './lake/offsets.ts';
import { readColumnBatches } from './lake/parquet-source.ts';
import { goldColumns, summaryKeys, type GoldRow } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { rowCounts, type RowCounts } from './ops/runs.ts';

export interface VerifySummary extends RowCounts {
  readonly bronze: number;
  readonly silver: number;
  readonly rejected: number;
  readonly duplicates: number;
  readonly goldRows: number;
  /** Per table, how many snapshots are newer than the cut verify checked (the next runs' input). */
  readonly snapshotsAhead: Record<string, number>;
  readonly checked: string[];
}

/** One bit per offset of a partition's range `[first, end)`. */
class OffsetSet {
  private readonly bits: Uint8Array;
  constructor(
    readonly first: number,
    readonly end: number,
  ) {
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

/** What the checks share: the snapshots of the cut they check and what earlier checks found. */
interface Lake {
  readonly config: Config;
  readonly logger: Logger;
  readonly tables: Record<TableKey, LoadedTable | undefined>;
  /** The snapshot of each table that verify checks (see `cutOf`); undefined for a table without one. */
  readonly cut: Record<TableKey, Snapshot | undefined>;
  /** Kafka's committed offsets of the consumer group, read before bronze was loaded (undefined when not checked). */
  readonly committed: Map<number, number> | undefined;
  readonly files: Record<TableKey, LiveFile[]>;
  /** Per Kafka partition, the offsets bronze holds, from its snapshots' summaries. */
  bronzeRanges: Map<number, OffsetSet>;
  counts: { bronze: number; silver: number; rejected: number; duplicates: number; goldRows: number };
  aggregate: GoldAggregator;
  reasons: Partial<Record<ReasonCode, number>>;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a check without figures to log returns nothing
type Check = { readonly name: string; readonly run: (lake: Lake) => Promise<Record<string, unknown> | void> };

function fail(invariant: string, message: string): never {
  throw new InvariantError(invariant, message);
}

const tableNames: Record<TableKey, string> = {
  bronze: 'bronze.vehicles',
  silver: 'silver.vehicles',
  rejected: 'silver.rejected',
  gold: 'gold.stats',
};

const everyTableHasASnapshot: Check = {
  name: 'every table has a snapshot',
  async run(lake) {
    for (const key of ['bronze', 'silver', 'gold'] as const) {
      if (!lake.cut[key]) {
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
      const columns = tables[key].columns;
      for (const { file } of lake.files[key]) {
        // Every column is decoded, so what the later checks do not read is vouched for too.
        try {
          for await (const batch of readDataFile(
            file,
            columns,
            columns.map((c) => c.name),
          ))
            void batch;
        } catch (error) {
          if (error instanceof DamagedFileError) fail(this.name, `${tableNames[key]}: ${error.message}`);
          throw error;
        }
        files++;
      }
    }
    return { files };
  },
};

const bronzeSnapshotsAreContiguous: Check = {
  name: "bronze's snapshots hold contiguous offsets",
  async run(lake) {
    const chain = lineage(lake.tables.bronze!.metadata, lake.cut.bronze).reverse();
    const next = new Map<number, number>();
    const first = new Map<number, number>();
    // What the snapshots maintain expired recorded comes first, from the table's properties.
    const expired = [...expiredOffsetsOf(lake.tables.bronze!.metadata.properties).ranges].flatMap(([p, list]) =>
      list.map((r) => [p, r] as const),
    );
    const recordedRanges = [
      { id: 'expired (table properties)', ranges: expired, snapshot: undefined },
      ...chain
        .filter((s) => s.summary.operation === 'append')
        .map((s) => ({ id: String(s['snapshot-id']), ranges: [...offsetRangesOf(s)], snapshot: s })),
    ];
    for (const { id, ranges, snapshot } of recordedRanges) {
      for (const [partition, [from, to]] of ranges) {
        const expected = next.get(partition);
        if (expected !== undefined && from !== expected) {
          fail(
            this.name,
            `partition ${partition}: snapshot ${id} starts at offset ${from}, the one before ended at ${expected}`,
          );
        }
        if (!first.has(partition)) first.set(partition, from);
        next.set(partition, to);
      }
      if (!snapshot) continue;
      const recorded = nextOffsetsOf(snapshot);
      for (const [partition, to] of next) {
        if (recorded.get(partition) !== to)
          fail(
            this.name,
            `partition ${partition}: snapshot ${snapshot['snapshot-id']} records next offset ${recorded.get(partition)}, its ranges end at ${to}`,
          );
      }
    }
    lake.bronzeRanges = new Map([...first].map(([p, f]) => [p, new OffsetSet(f, next.get(p)!)]));
    return {
      snapshots: chain.length,
      partitions: Object.fromEntries([...lake.bronzeRanges].map(([p, s]) => [p, [s.first, s.end]])),
    };
  },
};

const noRecordWasLost: Check = {
  name: 'no Kafka record was lost before bronze read it',
  async run(lake) {
    const lost: string[] = [];
    for (const [partition, ranges] of expiredOffsetsOf(lake.tables.bronze!.metadata.properties).gaps) {
      for (const [from, to] of ranges)
        lost.push(
          `partition ${partition} offsets ${from}..${to - 1} (${to - from} records, an expired bronze snapshot)`,
        );
    }
    for (const snapshot of lineage(lake.tables.bronze!.metadata, lake.cut.bronze).reverse()) {
      for (const [partition, ranges] of gapsOf(snapshot)) {
        for (const [from, to] of ranges)
          lost.push(
            `partition ${partition} offsets ${from}..${to - 1} (${to - from} records, bronze snapshot ${snapshot['snapshot-id']})`,
          );
      }
    }
    if (lost.length > 0)
      fail(
        this.name,
        `Kafka deleted records before bronze read them (retention shorter than the pipeline's delay?): ${lost.join('; ')}`,
      );
  },
};

const everyRecordInBronzeOnce: Check = {
  name: 'every record is in bronze exactly once',
  async run(lake) {
    for await (const { partition, offset, file } of offsetsOf(lake.files.bronze, 'partition', 'offset')) {
      const set = lake.bronzeRanges.get(partition);
      if (!set?.contains(offset))
        fail(this.name, `${file} holds partition ${partition} offset ${offset}, which no bronze snapshot records`);
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
    if (!lake.committed) return { skipped: 'LAKEHOUSE_VERIFY_KAFKA=false' };
    // Bronze sets the group's offsets just after each commit, so each partition of the group stands
    // at the end of the cut's bronze snapshot or of a later one (a run committing while verify reads).
    // Partition by partition: KafkaJS commits a seek per partition, one request each, so a
    // verify reading while a run commits can see some partitions moved and others not yet.
    const later = lineage(lake.tables.bronze!.metadata)
      .filter((s) => s['sequence-number'] >= lake.cut.bronze!['sequence-number'])
      .map((s) => nextOffsetsOf(s));
    const recorded = nextOffsetsOf(lake.cut.bronze);
    const partitions = new Set(later.flatMap((offsets) => [...offsets.keys()]));
    for (const partition of [...partitions].sort((a, b) => a - b)) {
      const committed = lake.committed.get(partition);
      if (!later.some((offsets) => offsets.get(partition) === committed)) {
        fail(
          this.name,
          `partition ${partition}: bronze ends before offset ${recorded.get(partition) ?? 0}${later.length > 1 ? " (or a later snapshot's end)" : ''} but the group ${lake.config.consumerGroup} committed ${committed ?? 'nothing'}`,
        );
      }
    }
    return { committed: Object.fromEntries(lake.committed) };
  },
};

const silverCoversEveryBronzeSnapshotOnce: Check = {
  name: 'silver covers every bronze snapshot once',
  async run(lake) {
    const bronzeChain = lineage(lake.tables.bronze!.metadata, lake.cut.bronze).reverse();
    const bronzeOrder = new Map(bronzeChain.map((s, i) => [s['snapshot-id'], i]));
    let last = -1;
    for (const snapshot of lineage(lake.tables.silver!.metadata, lake.cut.silver).reverse()) {
      const marker = snapshotIdOf(snapshot.summary[summaryKeys.bronzeSnapshot]);
      const position = marker === undefined ? undefined : bronzeOrder.get(marker);
      if (snapshot.summary.operation !== 'append') {
        // A compaction carries its parent's marker and consumes nothing. When expiry has left no
        // append before it, its marker is where the retained history starts.
        if (last === -1 && position !== undefined) last = position;
        continue;
      }
      // Silver's first snapshots may name bronze snapshots that maintain has expired since.
      if (position === undefined && last === -1 && expiredFromBronze(lake.tables.bronze!, marker)) continue;
      if (position === undefined)
        fail(
          this.name,
          `silver snapshot ${snapshot['snapshot-id']} records bronze snapshot ${marker ?? '(none)'}, which is not in bronze's history`,
        );
      if (position <= last)
        fail(this.name, `silver snapshot ${snapshot['snapshot-id']} consumed bronze snapshot ${marker} again`);
      last = position;
    }
    if (last !== bronzeChain.length - 1)
      fail(
        this.name,
        `silver's snapshot ${lake.cut.silver!['snapshot-id']} has not consumed bronze snapshot ${lake.cut.bronze!['snapshot-id']}`,
      );
  },
};

const everySilverRowPassesTheRules: Check = {
  name: 'every silver row passes the rules',
  async run(lake) {
    const placed = placement(lake);
    const { validateObject } = eventValidator(lake.config);
    for (const { file } of lake.files.silver) {
      const columns = [
        'vehicle_id',
        'type',
        'latitude',
        'longitude',
        'battery',
        'event_time',
        'source_partition',
        'source_offset',
      ];
      for await (const { rows, columns: c } of readColumnBatches(localPath(file.path), columns)) {
        for (let i = 0; i < rows; i++) {
          const result = validateObject({
            vehicleId: c.vehicle_id[i],
            type: c.type[i],
            latitude: c.latitude[i],
            longitude: c.longitude[i],
            battery: c.battery[i],
            timestamp: c.event_time[i],
          });
          if (!result.ok) fail(this.name, `${localPath(file.path)} row ${i}: ${result.reason}: ${result.detail}`);
          placed('silver', c.source_partition[i] as number, c.source_offset[i] as number);
          const e = result.event;
          lake.aggregate.add({
            vehicleId: e.vehicleId,
            type: e.type,
            battery: e.battery,
            latitude: e.latitude,
            longitude: e.longitude,
            eventTime: e.timestamp,
          });
          lake.counts.silver++;
        }
      }
    }
    for await (const { partition, offset, reason, file } of offsetsOf(
      lake.files.rejected,
      'source_partition',
      'source_offset',
      'reason',
    )) {
      if (!reasonCodes.includes(reason as ReasonCode))
        fail('every rejected row has a reason code', `${file}: unknown reason "${reason}"`);
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
    if (!set?.contains(offset))
      fail(name, `${table} has partition ${partition} offset ${offset}, which is not in bronze`);
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
      fail(
        this.name,
        `silver ${silver} + rejected ${rejected - duplicates} + duplicates ${duplicates} = ${silver + rejected}, bronze ${bronze}`,
      );
    }
    return { silver, rejected: rejected - duplicates, duplicates, bronze, reasons: lake.reasons };
  },
};

const goldEqualsAggregationOfSilver: Check = {
  name: 'gold equals a fresh aggregation of silver',
  async run(lake) {
    const gold: GoldRow[] = [];
    for await (const row of readDataRows(
      lake.files.gold.map((f) => f.file),
      goldColumns,
    ))
      gold.push(row);
    lake.counts.goldRows = gold.length;
    const goldEvents = gold.reduce((sum, r) => sum + r.event_count, 0);
    if (goldEvents !== lake.counts.silver)
      fail(
        'sum of gold event_count = silver rows',
        `gold counts ${goldEvents} events, silver has ${lake.counts.silver}`,
      );
    const expected = lake.aggregate.rows(0);
    const goldTypes = gold
      .map((r) => r.type)
      .sort()
      .join(',');
    const silverTypes = expected.map((r) => r.type).join(',');
    if (goldTypes !== silverTypes)
      fail('one gold row per type present', `gold has types [${goldTypes}], silver has [${silverTypes}]`);
    for (const want of expected) {
      const got = gold.find((r) => r.type === want.type)!;
      for (const column of goldColumns) {
        if (column.name === 'computed_at') continue;
        const a = got[column.name] as number;
        const b = want[column.name] as number;
        if (!(a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b))))
          fail(this.name, `type ${want.type}: ${column.name} is ${a}, silver gives ${b}`);
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

/**
 * The cut verify checks: gold's current snapshot, the silver snapshot it was computed from, the bronze
 * snapshot that silver snapshot consumed, and the newest silver.rejected snapshot of the same bronze
 * input. A pipeline run committing while verify reads only moves heads past the cut, so verify can run
 * beside the schedule. The tables are loaded downstream first: each one's input is then already
 * committed when it is read. Without gold (or silver) yet, the cut is the heads, and the first check names
 * what is missing.
 */
async function cutOf(config: Config, logger: Logger) {
  const gold = findTable(config.dataDir, 'gold');
  const silver = findTable(config.dataDir, 'silver');
  const rejected = findTable(config.dataDir, 'rejected');
  const committed = config.verifyKafka ? await committedOffsets(config, logger) : undefined;
  const bronze = findTable(config.dataDir, 'bronze');
  const goldCut = headOf(gold);
  const silverCut = inputOf(silver, goldCut, summaryKeys.silverSnapshot, 'gold') ?? headOf(silver);
  const bronzeCut =
    inputOf(bronze, silverCut && lastWithMarker(silver!, silverCut), summaryKeys.bronzeSnapshot, 'silver') ??
    headOf(bronze);
  const tables = { bronze, silver, rejected, gold };
  const cut: Record<TableKey, Snapshot | undefined> = {
    bronze: bronzeCut,
    silver: silverCut,
    rejected: rejectedCut(bronze, rejected, bronzeCut),
    gold: goldCut,
  };
  const ahead: Record<string, number> = Object.fromEntries(
    (Object.keys(cut) as TableKey[])
      .map((key) => [tableNames[key], cut[key] ? lineage(tables[key]!.metadata).indexOf(cut[key]) : 0])
      .filter(([, n]) => (n as number) > 0),
  );
  if (Object.keys(ahead).length > 0)
    logger.info("verifying the lake as gold last saw it; newer snapshots are the next runs' input", {
      snapshotsAhead: ahead,
    });
  return { tables, cut, committed, ahead };
}

/** The snapshot of `input` that `from` (a downstream snapshot) names under `key`; it must exist. */
function inputOf(
  input: LoadedTable | undefined,
  from: Snapshot | undefined,
  key: string,
  stage: string,
): Snapshot | undefined {
  const id = snapshotIdOf(from?.summary[key]);
  if (id === undefined || !input) return undefined;
  const found = snapshotById(input.metadata, id);
  if (!found)
    fail(
      'every table has a snapshot',
      `${stage} snapshot ${from!['snapshot-id']} was computed from snapshot ${id}, which its input table does not have`,
    );
  return found;
}

/** Whether `marker` names a bronze snapshot that maintain expired: gone from bronze, whose properties record expired snapshots. */
function expiredFromBronze(bronze: LoadedTable, marker: SnapshotId | undefined): boolean {
  return (
    marker !== undefined &&
    !snapshotById(bronze.metadata, marker) &&
    expiredOffsetsOf(bronze.metadata.properties).ranges.size > 0
  );
}

/** The newest snapshot at or before `from` that records a bronze marker (maintenance snapshots may not). */
function lastWithMarker(table: LoadedTable, from: Snapshot): Snapshot | undefined {
  return lineage(table.metadata, from).find((s) => s.summary[summaryKeys.bronzeSnapshot] !== undefined);
}

/** silver.rejected is committed just before silver.vehicles: its snapshot for the cut is the newest whose bronze input is not past the cut's. */
function rejectedCut(
  bronze: LoadedTable | undefined,
  rejected: LoadedTable | undefined,
  bronzeCut: Snapshot | undefined,
): Snapshot | undefined {
  if (!rejected || !bronze || !bronzeCut) return headOf(rejected);
  const consumed = new Set(lineage(bronze.metadata, bronzeCut).map((s) => s['snapshot-id']));
  const chain = lineage(rejected.metadata);
  const index = chain.findIndex((s) => {
    const marked = lastWithMarker(rejected, s);
    const marker = snapshotIdOf(marked?.summary[summaryKeys.bronzeSnapshot]);
    return marker !== undefined && (consumed.has(marker) || expiredFromBronze(bronze, marker));
  });
  return index < 0 ? undefined : chain[index];
}

/** Checks every invariant of the lake (DESIGN.md) on a consistent cut of its tables; throws at the first that fails. */
export async function runVerify(config: Config, logger: Logger): Promise<VerifySummary> {
  const { tables, cut, committed, ahead } = await cutOf(config, logger);
  const files = {} as Record<TableKey, LiveFile[]>;
  for (const key of Object.keys(tables) as TableKey[])
    files[key] = tables[key] && cut[key] ? await liveFiles(tables[key]!, cut[key]) : [];
  const lake: Lake = {
    config,
    logger,
    tables,
    cut,
    committed,
    files,
    bronzeRanges: new Map(),
    counts: { bronze: 0, silver: 0, rejected: 0, duplicates: 0, goldRows: 0 },
    aggregate: new GoldAggregator(),
    reasons: {},
  };
  const checked: string[] = [];
  for (const check of checks) {
    const fields = await check.run(lake);
    checked.push(check.name);
    logger.info(`ok: ${check.name}`, fields ?? {});
  }
  const { bronze, silver, rejected, duplicates, goldRows } = lake.counts;
  const summary = {
    bronze,
    silver,
    rejected: rejected - duplicates,
    duplicates,
    goldRows,
    snapshotsAhead: ahead,
    checked,
  };
  logger.info('lake verified', summary);
  // In: every row verify read (bronze, silver, rejected with its duplicates, gold).
  return { ...summary, rowCounts: rowCounts(bronze + silver + rejected + goldRows, null) };
}

async function* offsetsOf(
  files: readonly LiveFile[],
  partitionColumn: string,
  offsetColumn: string,
  reasonColumn?: string,
) {
  for (const { file } of files) {
    const local = localPath(file.path);
    const columns = reasonColumn ? [partitionColumn, offsetColumn, reasonColumn] : [partitionColumn, offsetColumn];
    for await (const { rows, columns: c } of readColumnBatches(local, columns)) {
      for (let i = 0; i < rows; i++) {
        yield {
          partition: c[partitionColumn][i] as number,
          offset: c[offsetColumn][i] as number,
          reason: reasonColumn ? (c[reasonColumn][i] as string) : '',
          file: local,
        };
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
