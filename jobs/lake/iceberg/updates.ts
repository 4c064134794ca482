/**
 * A commit as data, in the Iceberg REST catalog's terms: the metadata updates it makes and the
 * requirements the table must still meet (its current snapshot is still the one the change was
 * planned from). A REST catalog checks and applies them itself; the volume's catalog applies them
 * here. https://iceberg.apache.org/spec/#table-metadata and the REST catalog's CommitTableRequest.
 */
import type { Schema, Snapshot, SnapshotId, TableMetadata } from './metadata.ts';

export type TableUpdate =
  | { readonly action: 'add-snapshot'; readonly snapshot: Snapshot }
  | {
      readonly action: 'set-snapshot-ref';
      readonly 'ref-name': string;
      readonly type: 'branch';
      readonly 'snapshot-id': SnapshotId;
    }
  | { readonly action: 'remove-snapshots'; readonly 'snapshot-ids': readonly SnapshotId[] }
  | { readonly action: 'set-properties'; readonly updates: Readonly<Record<string, string>> }
  | { readonly action: 'add-schema'; readonly schema: Schema; readonly 'last-column-id': number }
  | { readonly action: 'set-current-schema'; readonly 'schema-id': number };

export type TableRequirement =
  | { readonly type: 'assert-table-uuid'; readonly uuid: string }
  | { readonly type: 'assert-ref-snapshot-id'; readonly ref: string; readonly 'snapshot-id': SnapshotId | null }
  | { readonly type: 'assert-current-schema-id'; readonly 'current-schema-id': number };

/** The requirement that `main` is still where the change was planned from (absent: no snapshot yet). */
export function mainIsStill(snapshot: Snapshot | undefined): TableRequirement {
  return { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': snapshot ? snapshot['snapshot-id'] : null };
}

/** The first requirement `metadata` does not meet, described; undefined when it meets them all. */
export function unmetRequirement(
  metadata: TableMetadata,
  requirements: readonly TableRequirement[],
): string | undefined {
  for (const r of requirements) {
    if (r.type === 'assert-table-uuid' && metadata['table-uuid'] !== r.uuid)
      return `the table's uuid is ${metadata['table-uuid']}, not ${r.uuid}`;
    if (r.type === 'assert-current-schema-id' && metadata['current-schema-id'] !== r['current-schema-id'])
      return `the current schema is ${metadata['current-schema-id']}, not ${r['current-schema-id']}`;
    if (r.type === 'assert-ref-snapshot-id') {
      const ref = metadata.refs?.[r.ref];
      const at = ref === undefined ? null : BigInt(ref['snapshot-id']);
      const wanted = r['snapshot-id'] === null ? null : BigInt(r['snapshot-id']);
      if (at !== wanted) return `${r.ref} is at snapshot ${at ?? 'none'}, not ${wanted ?? 'none'}`;
    }
  }
  return undefined;
}

/**
 * `base` with `updates` applied, as a catalog records them: the snapshot log follows the main
 * branch, and removing snapshots also drops their log entries and the metadata-log entries older
 * than the oldest snapshot kept (those versions describe snapshots that are gone).
 */
export function applyUpdates(base: TableMetadata, updates: readonly TableUpdate[], now = Date.now()): TableMetadata {
  let next: TableMetadata = { ...base };
  let updatedAt = Math.max(now, base['last-updated-ms'] + 1);
  for (const update of updates) {
    switch (update.action) {
      case 'add-snapshot':
        next = {
          ...next,
          snapshots: [...(next.snapshots ?? []), update.snapshot],
          'last-sequence-number': Math.max(next['last-sequence-number'], update.snapshot['sequence-number']),
        };
        updatedAt = Math.max(updatedAt, update.snapshot['timestamp-ms']);
        break;
      case 'set-snapshot-ref': {
        const id = update['snapshot-id'];
        next = { ...next, refs: { ...next.refs, [update['ref-name']]: { 'snapshot-id': id, type: update.type } } };
        if (update['ref-name'] === 'main') {
          const at =
            next.snapshots?.find((s) => BigInt(s['snapshot-id']) === BigInt(id))?.['timestamp-ms'] ?? updatedAt;
          next = {
            ...next,
            'current-snapshot-id': id,
            'snapshot-log': [...(next['snapshot-log'] ?? []), { 'timestamp-ms': at, 'snapshot-id': id }],
          };
        }
        break;
      }
      case 'remove-snapshots': {
        const gone = new Set(update['snapshot-ids'].map((id) => BigInt(id)));
        const keep = (id: SnapshotId | number) => !gone.has(BigInt(id));
        const snapshots = (next.snapshots ?? []).filter((s) => keep(s['snapshot-id']));
        const oldestKept = Math.min(...snapshots.map((s) => s['timestamp-ms']));
        next = {
          ...next,
          snapshots,
          'snapshot-log': (next['snapshot-log'] ?? []).filter((e) => keep(e['snapshot-id'])),
          'metadata-log': (next['metadata-log'] ?? []).filter((e) => e['timestamp-ms'] >= oldestKept),
        };
        break;
      }
      case 'set-properties':
        next = { ...next, properties: { ...next.properties, ...update.updates } };
        break;
      case 'add-schema':
        next = {
          ...next,
          schemas: [...next.schemas, update.schema],
          'last-column-id': Math.max(next['last-column-id'], update['last-column-id']),
        };
        break;
      case 'set-current-schema':
        next = { ...next, 'current-schema-id': update['schema-id'] };
        break;
    }
  }
  return { ...next, 'last-updated-ms': updatedAt };
}
