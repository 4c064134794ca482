import type { Config } from './config.ts';
import { coordinate, recordsAppendedBy } from './curate/replayed-rows.ts';
import { InvariantError } from './errors.ts';
import { eventValidator, reasonCodes, type ReasonCode } from './events/validate.ts';
import { GoldAggregator } from './gold/aggregate.ts';
import { authorizationFailure } from './kafka/authorization.ts';
import { createKafka, waitForKafka, withAdmin } from './kafka/client.ts';
import { KafkaAccessError } from './kafka/security.ts';
import type { LoadedTable } from './lake/catalog/catalog.ts';
import { openDataFile, readDataFile, readDataRows } from './lake/data-file-source.ts';
import type { TableFiles } from './lake/io/table-files.ts';
import { lineage, type Snapshot, type TableMetadata } from './lake/iceberg/metadata.ts';
import { liveFiles, type LiveFile } from './lake/iceberg/table.ts';
import { headOf, lakeOf, tables, type TableKey } from './lake/lake.ts';
import {
  consistentCut,
  erasedOffsets,
  LineageError,
  pendingErasure,
  replaysStillQuarantined,
  silverConsumedBronzeOnce,
} from './lake/lineage.ts';
import { DamagedFileError } from './lake/parquet-check.ts';
import { expiredOffsetsOf, gapsOf, nextOffsetsOf, offsetRangesOf } from './lake/offsets.ts';
import { readColumnBatches } from './lake/parquet-source.ts';
import { goldColumns, type GoldRow } from './lake/table-schema.ts';
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
  /** Every data file the current snapshots reference, the cut's and those ahead of it. */
  readonly currentFiles: Record<TableKey, LiveFile[]>;
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
        fail(
          this.name,
          `${tableNames[key]} has no snapshot ${lake.config.catalog === 'volume' ? `under ${lake.config.dataDir}` : `in ${lakeOf(lake.config).catalog.description}`}; did the ${key} job run?`,
        );
      }
    }
  },
};

const dataFilesMatchMetadata: Check = {
  name: 'every data file is whole and as the metadata describes it',
  async run(lake) {
    let files = 0;
    for (const key of Object.keys(lake.currentFiles) as TableKey[]) {
      const columns = tables[key].columns;
      // The cut's files and those the newer snapshots added (the next runs' input, which a damaged
      // file would stop): every column is decoded, so what the later checks do not read is vouched for too.
      for (const { file } of lake.currentFiles[key]) {
        try {
          for await (const batch of readDataFile(
            lake.tables[key]!.files,
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
    // From the head: a rollback records the records it could not have read again ahead of the cut.
    const bronze = lake.tables.bronze!.metadata;
    const head = lineage(bronze).some((s) => s === lake.cut.bronze) ? undefined : lake.cut.bronze;
    for (const snapshot of lineage(bronze, head).reverse()) {
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
    for await (const { partition, offset, file } of offsetsOf(
      lake.tables.bronze!.files,
      lake.files.bronze,
      'partition',
      'offset',
    )) {
      const set = lake.bronzeRanges.get(partition);
      if (!set?.contains(offset))
        fail(this.name, `${file} holds partition ${partition} offset ${offset}, which no bronze snapshot records`);
      if (!set.add(offset)) fail(this.name, `partition ${partition} offset ${offset} is in bronze twice`);
      lake.counts.bronze++;
    }
    markErasedOffsets(lake, this.name);
    for (const [partition, set] of lake.bronzeRanges) {
      const missing = set.firstMissing();
      if (missing !== undefined) fail(this.name, `partition ${partition} offset ${missing} is missing from bronze`);
    }
    return { bronze: lake.counts.bronze };
  },
};

/**
 * The offsets an erasure removed (forget) count as accounted for, and only those: one still in a
 * bronze file fails, as does one that bronze's snapshots do not record.
 */
function markErasedOffsets(lake: Lake, invariant: string): void {
  for (const [partition, ranges] of erasedOffsets(lake.tables.bronze!.metadata)) {
    const set = lake.bronzeRanges.get(partition);
    for (const [from, to] of ranges)
      for (let offset = from; offset < to; offset++) {
        if (!set?.contains(offset))
          fail(
            invariant,
            `partition ${partition} offset ${offset} is recorded as erased, but no bronze snapshot records it`,
          );
        if (!set.add(offset))
          fail(invariant, `partition ${partition} offset ${offset} was erased (forget) but is still in bronze`);
      }
  }
}

const noErasureIsIncomplete: Check = {
  name: 'no erasure is incomplete',
  async run(lake) {
    const pending = pendingErasure(lake.tables.bronze?.metadata);
    if (pending) fail(this.name, incompleteErasure(pending.run, pending.vehicles.length));
  },
};

function incompleteErasure(run: string, vehicles: number): string {
  return `the erasure of ${vehicles} vehicles by forget run ${run} is incomplete; run forget again with the same --vehicle ids`;
}

const bronzeEndsWhereKafkaCommitted: Check = {
  name: "bronze ends where Kafka's committed offsets are",
  async run(lake) {
    if (!lake.committed) return { skipped: 'LAKEHOUSE_VERIFY_KAFKA=false' };
    const problem = groupOffsetsProblem(
      lake.tables.bronze!.metadata,
      lake.cut.bronze!,
      lake.committed,
      lake.config.consumerGroup,
    );
    if (problem) fail(this.name, problem);
    return { committed: Object.fromEntries(lake.committed) };
  },
};

/**
 * Whether the group's committed offsets are where bronze ends. Bronze sets them just after each
 * commit, so each partition of the group stands at the end of the cut's bronze snapshot or of a
 * later one (a run committing while verify reads). Partition by partition: KafkaJS commits a seek
 * per partition, one request each, so a verify reading while a run commits can see some partitions
 * moved and others not yet. Returns what is wrong, if anything.
 */
export function groupOffsetsProblem(
  bronze: TableMetadata,
  cut: Snapshot,
  committed: ReadonlyMap<number, number>,
  group: string,
): string | undefined {
  const later = lineage(bronze)
    .filter((s) => s['sequence-number'] >= cut['sequence-number'])
    .map((s) => nextOffsetsOf(s));
  const recorded = nextOffsetsOf(cut);
  const partitions = new Set(later.flatMap((offsets) => [...offsets.keys()]));
  for (const partition of [...partitions].sort((a, b) => a - b)) {
    const at = committed.get(partition);
    if (!later.some((offsets) => offsets.get(partition) === at))
      return `partition ${partition}: bronze ends before offset ${recorded.get(partition) ?? 0}${later.length > 1 ? " (or a later snapshot's end)" : ''} but the group ${group} committed ${at ?? 'nothing'}`;
  }
  return undefined;
}

const silverCoversEveryBronzeSnapshotOnce: Check = {
  name: 'silver covers every bronze snapshot once',
  async run(lake) {
    const problem = silverConsumedBronzeOnce(metadataOf(lake.tables), { snapshots: lake.cut, ahead: {} });
    if (problem) fail(this.name, problem);
  },
};

const everySilverRowPassesTheRules: Check = {
  name: 'every silver row passes the rules',
  async run(lake) {
    const placed = placement(lake);
    const { validateObject } = eventValidator(lake.config);
    // Rows a replay put in silver whose quarantine overwrite the cut does not have: counted in silver only.
    const replayed = new Set<number>();
    for (const id of replaysStillQuarantined(metadataOf(lake.tables), { snapshots: lake.cut, ahead: {} }))
      for (const record of await recordsAppendedBy(lake.tables.silver!, id)) replayed.add(record);
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
      const opened = await openDataFile(lake.tables.silver!.files, file);
      for await (const { rows, columns: c } of readColumnBatches(opened, columns)) {
        for (let i = 0; i < rows; i++) {
          const result = validateObject({
            vehicleId: c.vehicle_id[i],
            type: c.type[i],
            latitude: c.latitude[i],
            longitude: c.longitude[i],
            battery: c.battery[i],
            timestamp: c.event_time[i],
          });
          if (!result.ok) fail(this.name, `${opened.local} row ${i}: ${result.reason}: ${result.detail}`);
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
      lake.tables.rejected?.files,
      lake.files.rejected,
      'source_partition',
      'source_offset',
      'reason',
    )) {
      if (replayed.delete(coordinate(partition, offset))) continue;
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
      lake.tables.gold!.files,
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
  noErasureIsIncomplete,
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
 * The cut verify checks (lineage.consistentCut): the tables are loaded downstream first, so each
 * one's input is already committed when it is read, and a run committing meanwhile only moves
 * heads past the cut; verify can run beside the schedule.
 */
async function cutOf(config: Config, logger: Logger) {
  const lake = lakeOf(config);
  const gold = await lake.find('gold');
  const silver = await lake.find('silver');
  const rejected = await lake.find('rejected');
  const committed = config.verifyKafka ? await committedOffsets(config, logger) : undefined;
  const bronze = await lake.find('bronze');
  const tables = { bronze, silver, rejected, gold };
  let found: ReturnType<typeof consistentCut>;
  try {
    found = consistentCut(metadataOf(tables));
  } catch (error) {
    const pending = pendingErasure(bronze?.metadata);
    if (pending) fail(noErasureIsIncomplete.name, incompleteErasure(pending.run, pending.vehicles.length));
    if (error instanceof LineageError) fail(error.invariant, error.message);
    throw error;
  }
  const ahead: Record<string, number> = Object.fromEntries(
    Object.entries(found.ahead).map(([key, n]) => [tableNames[key as TableKey], n]),
  );
  if (Object.keys(ahead).length > 0)
    logger.info("verifying the lake as gold last saw it; newer snapshots are the next runs' input", {
      snapshotsAhead: ahead,
    });
  return { tables, cut: { ...found.snapshots }, committed, ahead };
}

function metadataOf(tables: Record<TableKey, LoadedTable | undefined>) {
  return {
    bronze: tables.bronze?.metadata,
    silver: tables.silver?.metadata,
    rejected: tables.rejected?.metadata,
    gold: tables.gold?.metadata,
  };
}

/** The files of the cut's snapshot and those the newer snapshots up to the head added, once each. */
async function filesThroughHead(table: LoadedTable, cut: Snapshot): Promise<LiveFile[]> {
  const head = headOf(table);
  const atCut = await liveFiles(table, cut);
  if (!head || head === cut) return atCut;
  const seen = new Set(atCut.map((f) => f.file.path));
  return [...atCut, ...(await liveFiles(table, head)).filter((f) => !seen.has(f.file.path))];
}

/** Checks every invariant of the lake (docs/architecture.md) on a consistent cut of its tables; throws at the first that fails. */
export async function runVerify(config: Config, logger: Logger): Promise<VerifySummary> {
  const { tables, cut, committed, ahead } = await cutOf(config, logger);
  const files = {} as Record<TableKey, LiveFile[]>;
  const currentFiles = {} as Record<TableKey, LiveFile[]>;
  for (const key of Object.keys(tables) as TableKey[]) {
    const table = tables[key];
    files[key] = table && cut[key] ? await liveFiles(table, cut[key]) : [];
    currentFiles[key] = table && cut[key] ? await filesThroughHead(table, cut[key]) : [];
  }
  const lake: Lake = {
    config,
    logger,
    tables,
    cut,
    committed,
    files,
    currentFiles,
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
  tableFiles: TableFiles | undefined,
  files: readonly LiveFile[],
  partitionColumn: string,
  offsetColumn: string,
  reasonColumn?: string,
) {
  for (const { file } of files) {
    const opened = await openDataFile(tableFiles!, file);
    const columns = reasonColumn ? [partitionColumn, offsetColumn, reasonColumn] : [partitionColumn, offsetColumn];
    for await (const { rows, columns: c } of readColumnBatches(opened, columns)) {
      for (let i = 0; i < rows; i++) {
        yield {
          partition: c[partitionColumn][i] as number,
          offset: c[offsetColumn][i] as number,
          reason: reasonColumn ? (c[reasonColumn][i] as string) : '',
          file: opened.local,
        };
      }
    }
  }
}

async function committedOffsets(config: Config, logger: Logger): Promise<Map<number, number>> {
  const kafka = createKafka(config, logger);
  await waitForKafka(kafka, config, logger);
  return withAdmin(kafka, async (admin) => {
    const [topic] = await admin
      .fetchOffsets({ groupId: config.consumerGroup, topics: [config.topic] })
      .catch((error) => {
        const refused = authorizationFailure(error, config, 'verify', { kafka });
        throw refused
          ? new KafkaAccessError(`${refused}; or set LAKEHOUSE_VERIFY_KAFKA=false to skip this check`)
          : error;
      });
    return new Map((topic?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  });
}
