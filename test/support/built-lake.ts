/**
 * A lake built in this process, without Kafka: bronze snapshots written as the bronze job writes
 * them (rows, offset summaries, cluster and topic), then silver, gold and verify run in-process
 * through their own entry points. For the tests of what the stages do with a lake (damage,
 * tampering, crash leftovers) that need no broker.
 */
import { loadConfig, type Config } from '../../jobs/config.ts';
import { runGold } from '../../jobs/gold.ts';
import { appendFiles } from '../../jobs/lake/iceberg/table.ts';
import { DataFileWriter, headOf, lakeAt } from '../../jobs/lake/lake.ts';
import { nextOffsetsOf, offsetSummary } from '../../jobs/lake/offsets.ts';
import { bronzeColumns, summaryKeys } from '../../jobs/lake/table-schema.ts';
import type { Logger } from '../../jobs/log.ts';
import { runSilver } from '../../jobs/silver.ts';
import { runVerify } from '../../jobs/verify.ts';
import { temporaryDir } from './lake.ts';

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps its lines, for a test to read. */
export function collectingLogger(job: string): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = (level: string, msg: string, fields: Record<string, unknown> = {}) => lines.push({ level, msg, fields });
  return {
    job,
    lines,
    log,
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}

/** An event as the producer sends it, with `n` choosing its vehicle and time. */
export function event(n: number, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    vehicleId: `CAR_${String(n % 7).padStart(3, '0')}`,
    type: ['car', 'bike', 'scooter'][n % 3],
    latitude: 48.85 + n / 10_000,
    longitude: 2.35 + n / 10_000,
    battery: n % 101,
    timestamp: 1_697_203_200_000 + n * 1000,
    ...overrides,
  });
}

export class BuiltLake {
  readonly dir: string;
  readonly config: Config;

  constructor(label: string, settings: Record<string, string> = {}) {
    this.dir = temporaryDir(label);
    this.config = loadConfig(new Map(), {
      LAKEHOUSE_DATA_DIR: this.dir,
      LAKEHOUSE_VERIFY_KAFKA: 'false',
      LAKEHOUSE_TOPIC: 'vehicles-events',
      ...settings,
    });
  }

  /** Appends one bronze snapshot holding `values` (record values: text, raw bytes or null), round-robin over `partitions`, as bronze commits them. */
  async bronze(values: readonly (string | Uint8Array | null)[], partitions = 3): Promise<void> {
    const table = await lakeAt(this.dir).open('bronze');
    const next = nextOffsetsOf(headOf(table));
    const first = new Map(next);
    const writer = new DataFileWriter(table, bronzeColumns, 100, 1000, (row) => row.partition);
    values.forEach((value, i) => {
      const partition = i % partitions;
      const offset = next.get(partition) ?? 0;
      if (!first.has(partition)) first.set(partition, offset);
      writer.write({
        key: Buffer.from(`key-${i}`),
        value: value === null ? null : typeof value === 'string' ? Buffer.from(value) : value,
        topic: this.config.topic,
        partition,
        offset,
        kafka_timestamp: 1_697_203_200_000 + i,
        ingested_at: 1_697_203_300_000,
      });
      next.set(partition, offset + 1);
    });
    const read = [...next].map(([partition, end]) => ({ partition, first: first.get(partition) ?? end, next: end }));
    await appendFiles(table, await writer.finish(), {
      [summaryKeys.topic]: this.config.topic,
      [summaryKeys.clusterId]: 'test-cluster',
      ...offsetSummary(
        read.filter((r) => r.next > r.first),
        next,
      ),
      [summaryKeys.writer]: 'test bronze',
    });
  }

  silver() {
    return runSilver(this.config, collectingLogger('silver'));
  }

  gold() {
    return runGold(this.config, collectingLogger('gold'));
  }

  verify() {
    return runVerify(this.config, collectingLogger('verify'));
  }
}

/** The error `work` fails with; the test fails when it does not. */
export async function failure(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure, and it succeeded');
}
