/**
 * Table metadata fixtures for the plans' unit tests: a table's history written as a list of
 * snapshots (append, replace, overwrite) with the summaries the jobs write, ids chosen by the test,
 * and expiry (snapshots removed, bronze's expired offsets recorded as maintain records them).
 */
import type { Snapshot, SnapshotId, TableMetadata } from '../../jobs/lake/iceberg/metadata.ts';
import { expiredOffsetProperties } from '../../jobs/lake/offsets.ts';
import { summaryKeys } from '../../jobs/lake/table-schema.ts';

type Operation = Snapshot['summary']['operation'];

export class History {
  private readonly snapshots: Snapshot[] = [];
  private properties: Record<string, string> = {};
  private sequence = 0;

  /** Appends a snapshot with id `id` on top of the current one. */
  add(id: number, operation: Operation, summary: Record<string, string> = {}): this {
    const parent = this.snapshots.at(-1);
    this.sequence++;
    this.snapshots.push({
      'snapshot-id': BigInt(id),
      ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
      'sequence-number': this.sequence,
      'timestamp-ms': 1_700_000_000_000 + this.sequence * 1000,
      'manifest-list': `file:/lake/t/metadata/snap-${id}.avro`,
      summary: { operation, ...summary },
    });
    return this;
  }

  append(id: number, summary: Record<string, string> = {}): this {
    return this.add(id, 'append', summary);
  }

  /** A compaction: carries the marker given (the Node engine's), or none (another engine's). */
  replace(id: number, summary: Record<string, string> = {}): this {
    return this.add(id, 'replace', summary);
  }

  overwrite(id: number, summary: Record<string, string> = {}): this {
    return this.add(id, 'overwrite', summary);
  }

  /** Removes the oldest snapshots up to `id`, recording bronze offsets as maintain does. */
  expireThrough(id: number): this {
    const index = this.snapshots.findIndex((s) => s['snapshot-id'] === BigInt(id));
    const expired = this.snapshots.splice(0, index + 1);
    this.properties = { ...this.properties, ...expiredOffsetProperties(this.properties, expired) };
    return this;
  }

  ids(): SnapshotId[] {
    return this.snapshots.map((s) => s['snapshot-id']);
  }

  metadata(): TableMetadata {
    const head = this.snapshots.at(-1);
    return {
      'format-version': 2,
      'table-uuid': '00000000-0000-0000-0000-000000000000',
      location: 'file:/lake/t',
      'last-sequence-number': this.sequence,
      'last-updated-ms': 1_700_000_000_000 + this.sequence * 1000,
      'last-column-id': 1,
      'current-schema-id': 0,
      schemas: [{ type: 'struct', 'schema-id': 0, fields: [] }],
      'default-spec-id': 0,
      'partition-specs': [{ 'spec-id': 0, fields: [] }],
      'last-partition-id': 999,
      'default-sort-order-id': 0,
      'sort-orders': [],
      properties: this.properties,
      'current-snapshot-id': head ? head['snapshot-id'] : -1,
      refs: head ? { main: { 'snapshot-id': head['snapshot-id'], type: 'branch' } } : {},
      snapshots: [...this.snapshots],
      'snapshot-log': this.snapshots.map((s) => ({
        'timestamp-ms': s['timestamp-ms'],
        'snapshot-id': s['snapshot-id'],
      })),
      'metadata-log': [],
    };
  }
}

/** A bronze append's summary: the offsets `[first, next)` of partition 0 it added, and where the table ends. */
export function bronzeOffsets(first: number, next: number): Record<string, string> {
  return {
    [summaryKeys.offsetRanges]: JSON.stringify({ 0: [first, next] }),
    [summaryKeys.nextOffsets]: JSON.stringify({ 0: next }),
  };
}

/** silver's and silver.rejected's marker: the bronze snapshot they hold up to. */
export const consumedBronze = (id: number) => ({ [summaryKeys.bronzeSnapshot]: String(id) });

/** gold's marker: the silver snapshot it was computed from. */
export const consumedSilver = (id: number) => ({ [summaryKeys.silverSnapshot]: String(id) });

/** Metadata as JSON with ids as numbers where they fit (as another engine would read it back). */
export function metadataJson(metadata: TableMetadata | undefined): unknown {
  return metadata === undefined
    ? null
    : JSON.parse(JSON.stringify(metadata, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
}
