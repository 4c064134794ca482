import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import { InvariantError } from './errors.ts';
import { reasonCodes, validateObject, type ReasonCode } from './events/validate.ts';
import { GoldAggregator } from './gold/aggregate.ts';
import { createKafka, waitForKafka, withAdmin } from './kafka/client.ts';
import { listParquetFiles } from './lake/atomic.ts';
import { readColumnBatches, readRows } from './lake/parquet-source.ts';
import { lakePaths, parseBronzeFileName, type BronzeFileName } from './lake/paths.ts';
import { goldColumns, type GoldRow } from './lake/table-schema.ts';
import type { Logger } from './log.ts';

export interface VerifySummary {
  readonly bronze: number;
  readonly silver: number;
  readonly rejected: number;
  readonly duplicates: number;
  readonly goldRows: number;
  readonly checked: string[];
}

/** One bit per offset of a partition's contiguous bronze range. */
class OffsetSet {
  private readonly bits: Uint8Array;
  constructor(readonly first: number, readonly last: number) {
    this.bits = new Uint8Array(Math.ceil((last - first + 1) / 8));
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
    return offset >= this.first && offset <= this.last;
  }
}

function fail(invariant: string, message: string): never {
  throw new InvariantError(invariant, message);
}

/** Checks every invariant of the lake (DESIGN.md) and throws an InvariantError at the first that fails. */
export async function runVerify(config: Config, logger: Logger): Promise<VerifySummary> {
  const paths = lakePaths(config.dataDir);
  const checked: string[] = [];
  const pass = (invariant: string, fields: Record<string, unknown> = {}) => {
    checked.push(invariant);
    logger.info(`ok: ${invariant}`, fields);
  };

  for (const [layer, dir] of [['bronze', paths.bronze], ['silver', paths.silver], ['rejected', paths.rejected], ['gold', paths.gold]] as const) {
    if (listParquetFiles(dir).length === 0) fail('every layer is present', `no Parquet file in ${dir} (${layer}); did the ${layer === 'rejected' ? 'silver' : layer} job run?`);
  }
  pass('every layer is present');

  // Bronze: files cover contiguous, non-overlapping offset ranges and hold exactly those offsets.
  const ranges = bronzeRanges(paths.bronze);
  const bronzeSeen = new Map<number, OffsetSet>();
  for (const [partition, files] of ranges) {
    for (let i = 1; i < files.length; i++) {
      if (files[i].firstOffset !== files[i - 1].lastOffset + 1n) {
        fail('bronze offsets are contiguous', `partition ${partition}: file ending at offset ${files[i - 1].lastOffset} is followed by one starting at ${files[i].firstOffset}`);
      }
    }
    bronzeSeen.set(partition, new OffsetSet(Number(files[0].firstOffset), Number(files.at(-1)!.lastOffset)));
  }
  let bronze = 0;
  for (const file of listParquetFiles(paths.bronze)) {
    const name = parseBronzeFileName(path.basename(file))!;
    const set = bronzeSeen.get(name.partition)!;
    for await (const { rows, columns } of readColumnBatches(file, ['partition', 'offset'])) {
      const partition = columns.partition as ArrayLike<number>;
      const offset = columns.offset as ArrayLike<number>;
      for (let i = 0; i < rows; i++) {
        if (partition[i] !== name.partition || offset[i] < Number(name.firstOffset) || offset[i] > Number(name.lastOffset)) {
          fail('bronze files hold the offsets they are named after', `${path.basename(file)} holds partition ${partition[i]} offset ${offset[i]}`);
        }
        if (!set.add(offset[i])) fail('every record is in bronze exactly once', `partition ${partition[i]} offset ${offset[i]} appears twice`);
        bronze++;
      }
    }
  }
  for (const [partition, set] of bronzeSeen) {
    for (let o = set.first; o <= set.last; o++) {
      if (!set.has(o)) fail('every record is in bronze exactly once', `partition ${partition} offset ${o} is missing from bronze`);
    }
  }
  pass('every record is in bronze exactly once', { bronze, partitions: bronzeSeen.size });

  if (config.verifyKafka) {
    const committed = await committedOffsets(config, logger);
    for (const [partition, set] of bronzeSeen) {
      const next = committed.get(partition);
      if (next !== set.last + 1) {
        fail('bronze rows = records read', `partition ${partition}: bronze ends at offset ${set.last} but the group ${config.consumerGroup} committed ${next ?? 'nothing'}`);
      }
    }
    for (const [partition, next] of committed) {
      if (next > 0 && !bronzeSeen.has(partition)) fail('bronze rows = records read', `partition ${partition}: offset ${next} committed but no bronze file`);
    }
    pass('bronze rows = records read', { committed: Object.fromEntries(committed) });
  }

  // Silver ∪ rejected: every bronze record exactly once; silver rows obey the rules.
  const placed = new Map([...bronzeSeen].map(([p, s]) => [p, new OffsetSet(s.first, s.last)]));
  const place = (table: string, partition: number, offset: number) => {
    const set = placed.get(partition);
    if (!set || !set.contains(offset)) fail('silver + rejected + duplicates = bronze', `${table} has partition ${partition} offset ${offset}, which is not in bronze`);
    if (!set.add(offset)) fail('silver + rejected + duplicates = bronze', `partition ${partition} offset ${offset} is in silver/rejected twice`);
  };
  let silver = 0;
  const aggregate = new GoldAggregator();
  const silverColumnsRead = ['vehicle_id', 'type', 'latitude', 'longitude', 'battery', 'event_time', 'source_partition', 'source_offset'];
  for (const file of listParquetFiles(paths.silver)) {
    for await (const { rows, columns: c } of readColumnBatches(file, silverColumnsRead)) {
      for (let i = 0; i < rows; i++) {
        const result = validateObject({
          vehicleId: c.vehicle_id[i], type: c.type[i], latitude: c.latitude[i], longitude: c.longitude[i],
          battery: c.battery[i], timestamp: c.event_time[i],
        });
        if (!result.ok) fail('every silver row passes the rules', `${path.basename(file)} row ${i}: ${result.reason}: ${result.detail}`);
        place('silver', c.source_partition[i] as number, c.source_offset[i] as number);
        // Gold is checked below against an aggregation of silver made in this same pass.
        const e = result.event;
        aggregate.add({ vehicleId: e.vehicleId, type: e.type, battery: e.battery, latitude: e.latitude, longitude: e.longitude, eventTime: e.timestamp });
        silver++;
      }
    }
  }
  pass('every silver row passes the rules', { silver });

  const reasons: Partial<Record<ReasonCode, number>> = {};
  let rejected = 0;
  for (const file of listParquetFiles(paths.rejected)) {
    for await (const { rows, columns: c } of readColumnBatches(file, ['source_partition', 'source_offset', 'reason'])) {
      for (let i = 0; i < rows; i++) {
        const reason = c.reason[i] as ReasonCode;
        if (!reasonCodes.includes(reason)) fail('every rejected row has a reason code', `${path.basename(file)} row ${i}: unknown reason "${reason}"`);
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        place('rejected', c.source_partition[i] as number, c.source_offset[i] as number);
        rejected++;
      }
    }
  }
  const duplicates = reasons.duplicate ?? 0;
  if (silver + rejected !== bronze) {
    fail('silver + rejected + duplicates = bronze', `silver ${silver} + rejected ${rejected - duplicates} + duplicates ${duplicates} = ${silver + rejected}, bronze ${bronze}`);
  }
  pass('silver + rejected + duplicates = bronze', { silver, rejected: rejected - duplicates, duplicates, bronze, reasons });

  // Gold: matches a fresh aggregation of silver.
  const gold: GoldRow[] = [];
  for await (const row of readRows(listParquetFiles(paths.gold), goldColumns)) gold.push(row);
  const goldEvents = gold.reduce((sum, r) => sum + r.event_count, 0);
  if (goldEvents !== silver) fail('sum of gold event_count = silver rows', `gold counts ${goldEvents} events, silver has ${silver}`);
  pass('sum of gold event_count = silver rows', { goldEvents });
  const expected = aggregate.rows(0);
  const goldTypes = gold.map((r) => r.type).join(',');
  const silverTypes = expected.map((r) => r.type).join(',');
  if (goldTypes !== silverTypes) fail('one gold row per type present', `gold has types [${goldTypes}], silver has [${silverTypes}]`);
  pass('one gold row per type present', { types: goldTypes });
  for (const want of expected) {
    const got = gold.find((r) => r.type === want.type)!;
    for (const column of goldColumns) {
      if (column.name === 'computed_at') continue;
      const a = got[column.name] as number;
      const b = want[column.name] as number;
      if (!(a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)))) {
        fail('gold equals the aggregation of silver', `type ${want.type}: ${column.name} is ${a}, silver gives ${b}`);
      }
    }
  }
  pass('gold equals the aggregation of silver');

  const summary = { bronze, silver, rejected: rejected - duplicates, duplicates, goldRows: gold.length, checked };
  logger.info('lake verified', summary);
  return summary;
}

function bronzeRanges(dir: string): Map<number, BronzeFileName[]> {
  const byPartition = new Map<number, BronzeFileName[]>();
  if (!fs.existsSync(dir)) return byPartition;
  for (const name of fs.readdirSync(dir)) {
    const parsed = parseBronzeFileName(name);
    if (!parsed) continue;
    const list = byPartition.get(parsed.partition) ?? [];
    list.push(parsed);
    byPartition.set(parsed.partition, list);
  }
  for (const list of byPartition.values()) list.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
  return byPartition;
}

async function committedOffsets(config: Config, logger: Logger): Promise<Map<number, number>> {
  const kafka = createKafka(config, logger);
  await waitForKafka(kafka, config, logger);
  return withAdmin(kafka, async (admin) => {
    const [topic] = await admin.fetchOffsets({ groupId: config.consumerGroup, topics: [config.topic] });
    return new Map((topic?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  });
}
