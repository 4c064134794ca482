/**
 * What `rollback --to` writes (jobs/rollback.ts does the I/O): pure functions over the lake's table
 * metadata and Kafka's log start offsets.
 *
 * The target is the consistent cut (lineage.consistentCut) the lake had when a gold snapshot was
 * current: that gold snapshot, the silver snapshot it was computed from, the bronze snapshot that
 * one consumed, and the matching silver.rejected snapshot. Each table gets a new snapshot whose
 * contents are its cut snapshot's, recording that snapshot under `lakehouse.rollback.snapshot-id`:
 * the table's history goes on from there (iceberg/metadata.ts `lineage`), so the snapshots in
 * between are out of every stage's input, and bronze's next run resumes at the cut's offsets.
 *
 * Order: gold, silver, silver.rejected, then bronze. Until bronze is rolled back, the cut gold
 * records is an older one whose snapshots are all still in the history, so a reader (verify) sees a
 * consistent lake after each commit; a rollback that died part way is completed by running it again.
 */
import { ConfigError } from '../errors.ts';
import {
  currentSnapshot,
  rollbackKey,
  snapshotAsOf,
  snapshotById,
  type Snapshot,
  type SnapshotId,
  type TableMetadata,
} from './iceberg/metadata.ts';
import { consistentCut, type LakeMetadata } from './lineage.ts';
import { nextOffsetsOf } from './offsets.ts';
import { summaryKeys, tables, type TableKey } from './table-schema.ts';

export type RollbackTarget =
  | { readonly kind: 'time'; readonly ms: number; readonly text: string }
  | { readonly kind: 'snapshot'; readonly id: SnapshotId; readonly text: string };

const flag = '--to';

/** `--to`'s value: a gold snapshot id (digits) or an ISO 8601 time (`2026-12-06T22:00:00Z`). */
export function parseTarget(text: string | undefined): RollbackTarget {
  if (text === undefined || text === 'true')
    throw new ConfigError(flag, 'is missing: give a time (ISO 8601) or a gold.stats snapshot id');
  const value = text.trim();
  if (value === '') throw new ConfigError(flag, 'is empty: give a time (ISO 8601) or a gold.stats snapshot id');
  if (/^\d{1,19}$/.test(value)) return { kind: 'snapshot', id: BigInt(value), text: value };
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    throw new ConfigError(
      flag,
      `${JSON.stringify(value)} is neither a snapshot id nor an ISO 8601 time (like 2026-12-06T22:00:00Z)`,
    );
  return { kind: 'time', ms, text: value };
}

/** One table's new snapshot: the contents of `restore` (nothing when undefined) with `summary`. */
export interface RestoreStep {
  readonly table: TableKey;
  readonly restore: Snapshot | undefined;
  readonly summary: Readonly<Record<string, string>>;
}

export interface RollbackPlan {
  /** The gold snapshot whose cut the lake goes back to. */
  readonly gold: Snapshot;
  readonly cut: Readonly<Record<TableKey, Snapshot | undefined>>;
  /** In commit order; a table already at its cut (a rollback run again after it died) has none. */
  readonly steps: readonly RestoreStep[];
  /** Per Kafka partition, where bronze resumes after the rollback (the cut's next offsets). */
  readonly nextOffsets: ReadonlyMap<number, number>;
  /** Per Kafka partition, where bronze stands now: what the rollback drops is read again from the cut's offset up to here. */
  readonly headOffsets: ReadonlyMap<number, number>;
}

const order: readonly TableKey[] = ['gold', 'silver', 'rejected', 'bronze'];
const writer = { [summaryKeys.writer]: 'node rollback' };
const idText = (s: Snapshot) => String(s['snapshot-id']);

/** The table as it was at `ms`: its current snapshot is the one current then (none before its first). */
function asOf(metadata: TableMetadata | undefined, ms: number, exact?: Snapshot): TableMetadata | undefined {
  if (!metadata) return undefined;
  const at = exact ?? snapshotAsOf(metadata, ms);
  return {
    ...metadata,
    'current-snapshot-id': at ? at['snapshot-id'] : -1,
    refs: at ? { main: { 'snapshot-id': at['snapshot-id'], type: 'branch' } } : {},
  };
}

function goldSnapshotOf(lake: LakeMetadata, target: RollbackTarget): Snapshot {
  const gold = lake.gold;
  const first = gold?.snapshots?.reduce<Snapshot | undefined>(
    (a, s) => (!a || s['timestamp-ms'] < a['timestamp-ms'] ? s : a),
    undefined,
  );
  if (!gold || !first) throw new ConfigError(flag, `${tables.gold.name} has no snapshot yet: nothing to go back to`);
  if (target.kind === 'time') {
    const found = snapshotAsOf(gold, target.ms);
    if (!found)
      throw new ConfigError(
        flag,
        `${target.text} is before ${tables.gold.name}'s first snapshot (${new Date(first['timestamp-ms']).toISOString()})`,
      );
    return found;
  }
  const found = snapshotById(gold, target.id);
  if (found) return found;
  const other = (['bronze', 'silver', 'rejected'] as const).find((k) => lake[k] && snapshotById(lake[k], target.id));
  throw new ConfigError(
    flag,
    other
      ? `${target.text} is a snapshot of ${tables[other].name}, not of ${tables.gold.name}`
      : `${tables.gold.name} has no snapshot ${target.text}`,
  );
}

/** The contents `snapshot` holds, as one id: a rollback snapshot holds what the snapshot it restored held. */
function contentsOf(snapshot: Snapshot | undefined): string | undefined {
  return snapshot && (snapshot.summary[rollbackKey] ?? idText(snapshot));
}

/** What `rollback --to target` writes on `lake`. Throws ConfigError for a target the lake does not have. */
export function planRollback(lake: LakeMetadata, target: RollbackTarget): RollbackPlan {
  const gold = goldSnapshotOf(lake, target);
  const ms = gold['timestamp-ms'];
  const then = consistentCut({
    bronze: asOf(lake.bronze, ms),
    silver: asOf(lake.silver, ms),
    rejected: asOf(lake.rejected, ms),
    gold: asOf(lake.gold, ms, gold),
  });
  const cut = then.snapshots;
  if (!cut.silver || !cut.bronze)
    throw new ConfigError(flag, `${tables.gold.name} snapshot ${idText(gold)} records no silver input to go back to`);
  const bronzeId = idText(cut.bronze);
  const summaries: Record<TableKey, Record<string, string>> = {
    gold: { [summaryKeys.silverSnapshot]: cut.gold!.summary[summaryKeys.silverSnapshot] ?? idText(cut.silver) },
    silver: { [summaryKeys.bronzeSnapshot]: bronzeId },
    rejected: { [summaryKeys.bronzeSnapshot]: cut.rejected?.summary[summaryKeys.bronzeSnapshot] ?? bronzeId },
    bronze: Object.fromEntries(
      [summaryKeys.topic, summaryKeys.clusterId, summaryKeys.topicId, summaryKeys.nextOffsets].flatMap((k) =>
        cut.bronze!.summary[k] === undefined ? [] : [[k, cut.bronze!.summary[k]]],
      ),
    ),
  };
  const steps: RestoreStep[] = [];
  for (const key of order) {
    const metadata = lake[key];
    const head = metadata && currentSnapshot(metadata);
    if (!head) continue;
    const restore = cut[key];
    const done = restore
      ? contentsOf(head) === contentsOf(restore)
      : head.summary[summaryKeys.writer] === writer[summaryKeys.writer] && Number(head.summary['total-records']) === 0;
    if (done) continue;
    steps.push({
      table: key,
      restore,
      summary: { ...summaries[key], ...(restore ? { [rollbackKey]: contentsOf(restore)! } : {}), ...writer },
    });
  }
  const head = lake.bronze && currentSnapshot(lake.bronze);
  return { gold, cut, steps, nextOffsets: nextOffsetsOf(cut.bronze), headOffsets: nextOffsetsOf(head) };
}

/** Offsets `[from, to)` of a partition the rollback drops from bronze and Kafka no longer holds. */
export interface Loss {
  readonly partition: number;
  readonly from: number;
  readonly to: number;
}

/**
 * What bronze would have to read again from Kafka but cannot: per partition, the offsets from the
 * cut's next offset up to Kafka's log start offset (`logStart`), where that is past it.
 */
export function lossOf(
  plan: Pick<RollbackPlan, 'nextOffsets' | 'headOffsets'>,
  logStart: ReadonlyMap<number, number>,
): Loss[] {
  const losses: Loss[] = [];
  for (const [partition, head] of [...plan.headOffsets].sort((a, b) => a[0] - b[0])) {
    const from = plan.nextOffsets.get(partition) ?? 0;
    const to = Math.min(logStart.get(partition) ?? 0, head);
    if (to > from) losses.push({ partition, from, to });
  }
  return losses;
}

export function describeLoss(losses: readonly Loss[]): string {
  return losses
    .map((l) => `partition ${l.partition} offsets ${l.from}..${l.to - 1} (${l.to - l.from} records)`)
    .join('; ');
}
