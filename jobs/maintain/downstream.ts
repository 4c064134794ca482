import type { LoadedTable } from '../lake/iceberg/catalog.ts';
import { lineage, type SnapshotId } from '../lake/iceberg/metadata.ts';
import { findTable, headOf, snapshotIdOf } from '../lake/lake.ts';
import { summaryKeys, tables, type TableSpec } from '../lake/table-schema.ts';

/**
 * How far the table that reads `spec` incrementally has read it: silver.vehicles records the bronze
 * snapshot it consumed, gold the silver one. Snapshots from the marker on (and the files they added)
 * are still to be read, so maintenance neither expires them nor compacts those files.
 * `all`: nothing reads the table incrementally; `none`: its reader has not started (keep everything).
 */
export type Consumed = { readonly kind: 'all' } | { readonly kind: 'none' } | { readonly kind: 'through'; readonly marker: SnapshotId };

export function consumedOf(dataDir: string, spec: TableSpec): Consumed {
  const reader = spec.name === tables.bronze.name ? { key: 'silver' as const, summary: summaryKeys.bronzeSnapshot }
    : spec.name === tables.silver.name ? { key: 'gold' as const, summary: summaryKeys.silverSnapshot }
      : undefined;
  if (!reader) return { kind: 'all' };
  const marker = snapshotIdOf(headOf(findTable(dataDir, reader.key))?.summary[reader.summary]);
  if (marker !== undefined) return { kind: 'through', marker };
  // Gold without a marker recomputes from all of silver; silver without one reads all of bronze's history.
  return reader.key === 'gold' ? { kind: 'all' } : { kind: 'none' };
}

/**
 * Per snapshot of the table's history, whether its reader has consumed it (the marker itself
 * included). Snapshots no longer in the history (expired) count as consumed.
 */
export function consumedSnapshots(table: LoadedTable, consumed: Consumed): (id: SnapshotId) => boolean {
  const chain = lineage(table.metadata).reverse();
  const position = new Map(chain.map((s, i) => [s['snapshot-id'], i]));
  const through = consumed.kind === 'all' ? chain.length - 1 : consumed.kind === 'none' ? -1 : position.get(consumed.marker) ?? -1;
  return (id) => {
    const at = position.get(id);
    return at === undefined ? consumed.kind !== 'none' : at <= through;
  };
}
