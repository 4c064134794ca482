import type { LoadedTable } from '../lake/catalog/catalog.ts';
import {
  currentSnapshot,
  lineage,
  type Snapshot,
  type SnapshotId,
  type TableMetadata,
} from '../lake/iceberg/metadata.ts';
import { expireSnapshots } from '../lake/iceberg/table.ts';
import { expiredOffsetProperties } from '../lake/offsets.ts';
import { tables } from '../lake/table-schema.ts';
import { consumedSnapshots, type Consumed } from '../lake/lineage.ts';

export interface ExpiryPlan {
  /** Oldest first. */
  readonly expired: readonly Snapshot[];
  /** When the newest expired snapshot stopped being current: a reader of it started before then. */
  readonly supersededAt: number;
}

/**
 * The snapshots to expire: the oldest part of the history, up to the first snapshot that is newer
 * than the retention, one of the last `keep`, named by a ref, or still to be read by the table's
 * reader (the reader's marker and everything after it); and old snapshots off the history.
 */
export function planExpiry(
  metadata: TableMetadata,
  consumed: Consumed,
  retentionMs: number,
  keep: number,
  now = Date.now(),
): ExpiryPlan {
  const all = metadata.snapshots ?? [];
  const chain = lineage(metadata).reverse();
  const refs = new Set(Object.values(metadata.refs ?? {}).map((r) => BigInt(r['snapshot-id'])));
  const head = currentSnapshot(metadata);
  if (head) refs.add(head['snapshot-id']);
  const isConsumed = consumedSnapshots(metadata, consumed);
  const old = (s: Snapshot) => s['timestamp-ms'] < now - retentionMs;
  const expired: Snapshot[] = [];
  let supersededAt = 0;
  for (let i = 0; i < chain.length - keep; i++) {
    const s = chain[i];
    const child = chain[i + 1];
    // A consumed snapshot is still needed while its child is not: the reader's marker is the last consumed.
    if (!old(s) || refs.has(s['snapshot-id']) || !isConsumed(s['snapshot-id']) || !isConsumed(child['snapshot-id']))
      break;
    expired.push(s);
    supersededAt = child['timestamp-ms'];
  }
  const inChain = new Set(chain.map((s) => s['snapshot-id']));
  for (const s of all) {
    if (!inChain.has(s['snapshot-id']) && old(s) && !refs.has(s['snapshot-id'])) {
      expired.push(s);
      supersededAt = Math.max(supersededAt, now);
    }
  }
  return { expired, supersededAt };
}

/** Commits the expiry; for bronze, what the expired snapshots' summaries said goes into the table's properties. */
export async function expire(table: LoadedTable, plan: ExpiryPlan): Promise<LoadedTable> {
  if (plan.expired.length === 0) return table;
  const ids = new Set<SnapshotId>(plan.expired.map((s) => s['snapshot-id']));
  // Snapshots a rollback dropped are off the history: what they read from Kafka is read again, not expired.
  const inHistory = new Set(lineage(table.metadata).map((s) => s['snapshot-id']));
  const recorded = plan.expired.filter((s) => inHistory.has(s['snapshot-id']));
  const properties =
    table.spec.name === tables.bronze.name ? expiredOffsetProperties(table.metadata.properties, recorded) : {};
  return expireSnapshots(table, ids, properties);
}
