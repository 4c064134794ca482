import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { writeFileDurably } from './avro.ts';
import { metadataLogEntry, publishVersion, type LoadedTable } from './catalog.ts';
import {
  EntryStatus, encodeManifest, encodeManifestList, fileUri, localPath, readManifest, readManifestList,
  type DataFile, type ManifestEntry, type ManifestFile,
} from './manifest.ts';
import {
  currentSchema, currentSnapshot, newSnapshotId, type Snapshot, type SnapshotId, type TableMetadata,
} from './metadata.ts';

/** A live data file of a snapshot, with the snapshot that added it. */
export interface LiveFile {
  readonly file: DataFile;
  readonly addedBy: SnapshotId;
}

async function manifestsOf(snapshot: Snapshot | undefined): Promise<ManifestFile[]> {
  return snapshot ? readManifestList(localPath(snapshot['manifest-list'])) : [];
}

/**
 * Every data file a snapshot holds (the current one by default), in manifest order; with
 * `addedBy`, only files those snapshots added, reading only the manifests they wrote (the manifest
 * list names each manifest's snapshot), so an incremental run does not read the whole history.
 */
export async function liveFiles(
  table: LoadedTable,
  snapshot: Snapshot | undefined = currentSnapshot(table.metadata),
  addedBy?: ReadonlySet<SnapshotId>,
): Promise<LiveFile[]> {
  const files: LiveFile[] = [];
  for (const manifest of await manifestsOf(snapshot)) {
    if (addedBy && !addedBy.has(manifest.addedSnapshotId)) continue;
    for (const entry of await readManifest(manifest)) {
      if (entry.status === EntryStatus.Deleted || (addedBy && !addedBy.has(entry.snapshotId))) continue;
      files.push({ file: entry.file, addedBy: entry.snapshotId });
    }
  }
  return files;
}

export type SnapshotSummary = Readonly<Record<string, string>>;

/** An append adds files; an overwrite adds files and removes every live one. */
interface Change {
  readonly operation: 'append' | 'overwrite';
  readonly added: readonly DataFile[];
  readonly summary: SnapshotSummary;
}

/** Appends `files` as one new snapshot (an empty append still records its summary). */
export function appendFiles(table: LoadedTable, files: readonly DataFile[], summary: SnapshotSummary): Promise<LoadedTable> {
  return commitChange(table, { operation: 'append', added: files, summary });
}

/** Replaces every live file by `files` in one snapshot. */
export function overwriteFiles(table: LoadedTable, files: readonly DataFile[], summary: SnapshotSummary): Promise<LoadedTable> {
  return commitChange(table, { operation: 'overwrite', added: files, summary });
}

const sum = (files: readonly DataFile[], pick: (f: DataFile) => number) => files.reduce((total, f) => total + pick(f), 0);

async function commitChange(table: LoadedTable, change: Change): Promise<LoadedTable> {
  const base = table.metadata;
  const parent = currentSnapshot(base);
  const snapshotId = newSnapshotId();
  const sequenceNumber = base['last-sequence-number'] + 1;
  const schema = currentSchema(base);
  const spec = base['partition-specs'].find((s) => s['spec-id'] === base['default-spec-id'])!;
  const metadataDir = path.join(table.dir, 'metadata');
  const commitId = randomUUID();

  const previous = await manifestsOf(parent);
  const removed = change.operation === 'overwrite' ? (await liveFiles(table, parent)).map((f) => f.file) : [];
  const entries: ManifestEntry[] = [
    ...change.added.map((file) => ({ status: EntryStatus.Added, snapshotId, sequenceNumber, file })),
    ...removed.map((file) => ({ status: EntryStatus.Deleted, snapshotId, sequenceNumber, file })),
  ];
  const manifests: ManifestFile[] = change.operation === 'append' ? [...previous] : [];
  if (entries.length > 0) {
    const manifestPath = path.join(metadataDir, `${commitId}-m0.avro`);
    const bytes = await encodeManifest(entries, schema, spec);
    writeFileDurably(manifestPath, bytes);
    manifests.unshift({
      path: fileUri(manifestPath), length: bytes.length, addedSnapshotId: snapshotId, sequenceNumber,
      addedFiles: change.added.length, existingFiles: 0, deletedFiles: removed.length,
      addedRows: sum(change.added, (f) => f.recordCount), existingRows: 0, deletedRows: sum(removed, (f) => f.recordCount),
    });
  }
  const listPath = path.join(metadataDir, `snap-${snapshotId}-1-${commitId}.avro`);
  writeFileDurably(listPath, await encodeManifestList(manifests, { id: snapshotId, parentId: parent?.['snapshot-id'], sequenceNumber }));

  const totals = parentTotals(parent);
  const addedRecords = sum(change.added, (f) => f.recordCount);
  const addedSize = sum(change.added, (f) => f.fileSizeInBytes);
  const after = change.operation === 'append'
    ? { files: totals.files + change.added.length, records: totals.records + addedRecords, size: totals.size + addedSize }
    : { files: change.added.length, records: addedRecords, size: addedSize };
  const now = Math.max(Date.now(), (parent?.['timestamp-ms'] ?? 0) + 1);
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
    'sequence-number': sequenceNumber,
    'timestamp-ms': now,
    'manifest-list': fileUri(listPath),
    'schema-id': schema['schema-id'],
    summary: {
      operation: change.operation,
      ...change.summary,
      'added-data-files': String(change.added.length),
      'added-records': String(addedRecords),
      'added-files-size': String(addedSize),
      ...(removed.length > 0 ? {
        'deleted-data-files': String(removed.length),
        'deleted-records': String(sum(removed, (f) => f.recordCount)),
        'removed-files-size': String(sum(removed, (f) => f.fileSizeInBytes)),
      } : {}),
      'total-data-files': String(after.files),
      'total-records': String(after.records),
      'total-files-size': String(after.size),
      'total-delete-files': '0',
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
    },
  };
  const next: TableMetadata = {
    ...base,
    'last-sequence-number': sequenceNumber,
    'last-updated-ms': now,
    'current-snapshot-id': snapshotId,
    refs: { ...base.refs, main: { 'snapshot-id': snapshotId, type: 'branch' } },
    snapshots: [...(base.snapshots ?? []), snapshot],
    'snapshot-log': [...(base['snapshot-log'] ?? []), { 'timestamp-ms': now, 'snapshot-id': snapshotId }],
    'metadata-log': [...(base['metadata-log'] ?? []), metadataLogEntry(table)],
  };
  return publishVersion(table, next);
}

function parentTotals(parent: Snapshot | undefined) {
  const n = (key: string) => Number(parent?.summary[key] ?? 0);
  return { files: n('total-data-files'), records: n('total-records'), size: n('total-files-size') };
}
