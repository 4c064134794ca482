import type { LoadedTable } from '../lake/iceberg/catalog.ts';
import { lineage, snapshotById, type SnapshotId } from '../lake/iceberg/metadata.ts';
import { findTable, headOf, snapshotIdOf } from '../lake/lake.ts';
import { summaryKeys, tables, type TableSpec } from '../lake/table-schema.ts';

/**
 * How far the table that reads `spec` incrementally has read it: silver.vehicles records the bronze
 * snapshot it consumed, gold the silver one (and verify checks the bronze snapshot behind that). Snapshots from the marker on (and the files they added)
 * are still to be read, so maintenance neither expires them nor compacts those files.
 * `all`: nothing reads the table incrementally; `none`: its reader has not started (keep everything).
 */
export type Consumed =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | { readonly kind: 'through'; readonly marker: SnapshotId };

export function consumedOf(dataDir: string, spec: TableSpec): Consumed {
  if (spec.name === tables.bronze.name) {
    const silver = findTable(dataDir, 'silver');
    const head = snapshotIdOf(headOf(silver)?.summary[summaryKeys.bronzeSnapshot]);
    if (head === undefined) return { kind: 'none' };
    // verify checks the bronze snapshot that gold's silver snapshot consumed: older, when gold lags.
    const goldInput = snapshotIdOf(headOf(findTable(dataDir, 'gold'))?.summary[summaryKeys.silverSnapshot]);
    const checked =
      goldInput === undefined
        ? undefined
        : snapshotIdOf(snapshotById(silver!.metadata, goldInput)?.summary[summaryKeys.bronzeSnapshot]);
    const bronze = findTable(dataDir, 'bronze');
    const order = new Map(bronze ? lineage(bronze.metadata).map((s, i) => [s['snapshot-id'], i]) : []);
    const older = checked !== undefined && (order.get(checked) ?? -1) > (order.get(head) ?? -1);
    return { kind: 'through', marker: older ? checked : head };
  }
  if (spec.name === tables.silver.name) {
    const marker = snapshotIdOf(headOf(findTable(dataDir, 'gold'))?.summary[summaryKeys.silverSnapshot]);
    // Gold without a marker recomputes from all of silver.
    return marker === undefined ? { kind: 'all' } : { kind: 'through', marker };
  }
  if (spec.name === tables.rejected.name) return rejectedCut(dataDir);
  return { kind: 'all' };
}

/**
 * silver.rejected is committed just before silver.vehicles, so verify reads the newest rejected
 * snapshot whose bronze marker is not past the bronze snapshot it checks: that one and the later
 * ones are kept.
 */
function rejectedCut(dataDir: string): Consumed {
  const bronzeCut = consumedOf(dataDir, tables.bronze);
  const bronze = findTable(dataDir, 'bronze');
  const rejected = findTable(dataDir, 'rejected');
  if (bronzeCut.kind !== 'through' || !bronze || !rejected) return { kind: 'none' };
  const age = new Map(lineage(bronze.metadata).map((s, i) => [s['snapshot-id'], i]));
  const cut = age.get(bronzeCut.marker) ?? Infinity;
  for (const snapshot of lineage(rejected.metadata)) {
    const marker = snapshotIdOf(snapshot.summary[summaryKeys.bronzeSnapshot]);
    if (marker === undefined) continue;
    // A marker bronze no longer has names an expired, older snapshot.
    if ((age.get(marker) ?? Infinity) >= cut) return { kind: 'through', marker: snapshot['snapshot-id'] };
  }
  return { kind: 'none' };
}

/**
 * Per snapshot of the table's history, whether its reader has consumed it (the marker itself
 * included). Snapshots no longer in the history (expired) count as consumed.
 */
export function consumedSnapshots(table: LoadedTable, consumed: Consumed): (id: SnapshotId) => boolean {
  const chain = lineage(table.metadata).reverse();
  const position = new Map(chain.map((s, i) => [s['snapshot-id'], i]));
  const through =
    consumed.kind === 'all' ? chain.length - 1 : consumed.kind === 'none' ? -1 : (position.get(consumed.marker) ?? -1);
  return (id) => {
    const at = position.get(id);
    return at === undefined ? consumed.kind !== 'none' : at <= through;
  };
}
