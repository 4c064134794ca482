import { randomUUID } from 'node:crypto';
import { CommitConflictError, type LoadedTable, mayRemoveFilesAfter } from '../catalog/catalog.ts';
import {
  EntryStatus,
  encodeManifest,
  encodeManifestList,
  readManifest,
  readManifestList,
  type DataFile,
  type ManifestEntry,
  type ManifestFile,
} from './manifest.ts';
import {
  currentSchema,
  currentSnapshot,
  lineage,
  newSnapshotId,
  type PartitionSpec,
  type Schema,
  type Snapshot,
  type SnapshotId,
} from './metadata.ts';
import { mainIsStill, type TableRequirement, type TableUpdate } from './updates.ts';

/** A live data file of a snapshot, with the snapshot that added it. */
export interface LiveFile {
  readonly file: DataFile;
  readonly addedBy: SnapshotId;
}

async function manifestsOf(table: LoadedTable, snapshot: Snapshot | undefined): Promise<ManifestFile[]> {
  return snapshot ? readManifestList(table.files, snapshot['manifest-list']) : [];
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
  for (const manifest of await manifestsOf(table, snapshot)) {
    // A manifest holds the files its snapshot added, and, when a writer merged or rewrote manifests
    // (compaction, Java's manifest merging), files of earlier snapshots as existing entries.
    if (addedBy && !addedBy.has(manifest.addedSnapshotId) && manifest.existingFiles === 0) continue;
    for (const entry of await readManifest(table.files, manifest)) {
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
export function appendFiles(
  table: LoadedTable,
  files: readonly DataFile[],
  summary: SnapshotSummary,
): Promise<LoadedTable> {
  return commitChange(table, { operation: 'append', added: files, summary });
}

/** Replaces every live file by `files` in one snapshot. */
export function overwriteFiles(
  table: LoadedTable,
  files: readonly DataFile[],
  summary: SnapshotSummary,
): Promise<LoadedTable> {
  return commitChange(table, { operation: 'overwrite', added: files, summary });
}

const sum = (files: readonly DataFile[], pick: (f: DataFile) => number) =>
  files.reduce((total, f) => total + pick(f), 0);

/** What one new snapshot holds: its manifests (new and carried over) and the files it adds and removes. */
interface SnapshotPlan {
  readonly operation: 'append' | 'overwrite' | 'replace';
  readonly manifests: readonly ManifestFile[];
  readonly added: readonly DataFile[];
  readonly removed: readonly DataFile[];
  readonly summary: SnapshotSummary;
  /** Every file the snapshot holds, when it is not its parent's files with `added` and `removed` (a restore). */
  readonly holds?: readonly DataFile[];
  /** Table properties set in the same commit. */
  readonly properties?: Readonly<Record<string, string>>;
}

interface CommitContext {
  readonly table: LoadedTable;
  readonly parent: Snapshot | undefined;
  readonly snapshotId: SnapshotId;
  readonly sequenceNumber: number;
  readonly schema: Schema;
  readonly spec: PartitionSpec;
  readonly commitId: string;
  /** Files this commit wrote under metadata/, removed when it does not publish. */
  readonly written: string[];
}

function commitContext(table: LoadedTable): CommitContext {
  const base = table.metadata;
  return {
    table,
    parent: currentSnapshot(base),
    snapshotId: newSnapshotId(),
    sequenceNumber: base['last-sequence-number'] + 1,
    schema: currentSchema(base),
    spec: base['partition-specs'].find((s) => s['spec-id'] === base['default-spec-id'])!,
    commitId: randomUUID(),
    written: [],
  };
}

/** Writes a new file under the table's metadata/ for the commit; returns its location. */
async function writeMetadataFile(context: CommitContext, name: string, bytes: Uint8Array): Promise<string> {
  const relative = `metadata/${name}`;
  const uri = context.table.files.child(relative);
  if (!(await context.table.files.create(relative, bytes))) throw new Error(`${uri} exists already`);
  context.written.push(uri);
  return uri;
}

/** Writes a manifest of `entries` for the commit; returns its manifest list row. */
async function writeManifest(
  context: CommitContext,
  entries: readonly ManifestEntry[],
  index: number,
): Promise<ManifestFile> {
  const bytes = await encodeManifest(entries, context.schema, context.spec);
  const manifestPath = await writeMetadataFile(context, `${context.commitId}-m${index}.avro`, bytes);
  const of = (status: EntryStatus) => entries.filter((e) => e.status === status).map((e) => e.file);
  const [added, existing, deleted] = [of(EntryStatus.Added), of(EntryStatus.Existing), of(EntryStatus.Deleted)];
  return {
    path: manifestPath,
    length: bytes.length,
    addedSnapshotId: context.snapshotId,
    sequenceNumber: context.sequenceNumber,
    minSequenceNumber: Math.min(context.sequenceNumber, ...entries.map((e) => e.sequenceNumber)),
    addedFiles: added.length,
    existingFiles: existing.length,
    deletedFiles: deleted.length,
    addedRows: sum(added, (f) => f.recordCount),
    existingRows: sum(existing, (f) => f.recordCount),
    deletedRows: sum(deleted, (f) => f.recordCount),
  };
}

/**
 * Commits the change; when another writer committed first but only rewrote files (compaction's
 * `replace` snapshots, or a new version without a snapshot, as snapshot expiry writes), the rows the
 * change was planned from are unchanged, so it is committed again on the new state. Any other
 * commit in between stands: the caller's plan is stale and CommitConflictError is thrown.
 */
async function commitChange(table: LoadedTable, change: Change): Promise<LoadedTable> {
  for (let base = table; ; ) {
    try {
      return await commitOnce(base, change);
    } catch (error) {
      if (!(error instanceof CommitConflictError)) throw error;
      const latest = await base.catalog.load(base.spec);
      if (!latest || !onlyRewritesSince(latest, currentSnapshot(base.metadata))) throw error;
      base = latest;
    }
  }
}

function onlyRewritesSince(latest: LoadedTable, base: Snapshot | undefined): boolean {
  for (const snapshot of lineage(latest.metadata)) {
    if (snapshot['snapshot-id'] === base?.['snapshot-id']) return true;
    if (snapshot.summary.operation !== 'replace') return false;
  }
  return base === undefined;
}

async function commitOnce(table: LoadedTable, change: Change): Promise<LoadedTable> {
  const context = commitContext(table);
  const { parent, snapshotId, sequenceNumber } = context;
  const previous = await manifestsOf(table, parent);
  const removed = change.operation === 'overwrite' ? (await liveFiles(table, parent)).map((f) => f.file) : [];
  const entries: ManifestEntry[] = [
    ...change.added.map((file) => ({ status: EntryStatus.Added, snapshotId, sequenceNumber, file })),
    ...removed.map((file) => ({ status: EntryStatus.Deleted, snapshotId, sequenceNumber, file })),
  ];
  const manifests: ManifestFile[] = change.operation === 'append' ? previous.filter(holdsLiveFiles) : [];
  return withCleanup(context, async () => {
    if (entries.length > 0) manifests.unshift(await writeManifest(context, entries, 0));
    return commitSnapshot(context, { ...change, manifests, removed });
  });
}

/** A manifest whose entries are all deleted ones only told its own snapshot what it removed: later snapshots drop it, as Java's writers do. */
const holdsLiveFiles = (m: ManifestFile) => m.addedFiles + m.existingFiles > 0 || m.deletedFiles === 0;

/**
 * Runs a commit; when it fails (another writer committed first included), removes the metadata
 * files it wrote, unless the commit may have landed (its outcome is unknown).
 */
async function withCleanup<T>(context: CommitContext, commit: () => Promise<T>): Promise<T> {
  try {
    return await commit();
  } catch (error) {
    if (mayRemoveFilesAfter(error))
      for (const file of context.written) await context.table.files.delete(file, 'uncommitted metadata file');
    throw error;
  }
}

/**
 * Replaces `removed` (live files of the current snapshot) by `added`, which hold the same rows: a
 * `replace` snapshot, as compaction makes. Manifests without a removed file are carried over as they
 * are (readers that look only at the manifests a snapshot added still find them); the others are
 * rewritten with their removed files marked deleted and the rest existing, keeping each entry's
 * snapshot and sequence number.
 */
export function replaceFiles(
  table: LoadedTable,
  removed: readonly DataFile[],
  added: readonly DataFile[],
  summary: SnapshotSummary,
): Promise<LoadedTable> {
  return swapFiles(table, removed, added, summary, 'replace', {});
}

/**
 * Replaces `removed` (live files of the current snapshot) by `added`, which hold fewer rows (an
 * erasure removed some): an `overwrite` snapshot, so downstream readers see a change of rows, and
 * `properties` set on the table in the same commit.
 */
export function rewriteFiles(
  table: LoadedTable,
  removed: readonly DataFile[],
  added: readonly DataFile[],
  summary: SnapshotSummary,
  properties: Readonly<Record<string, string>>,
): Promise<LoadedTable> {
  return swapFiles(table, removed, added, summary, 'overwrite', properties);
}

async function swapFiles(
  table: LoadedTable,
  removed: readonly DataFile[],
  added: readonly DataFile[],
  summary: SnapshotSummary,
  operation: 'replace' | 'overwrite',
  properties: Readonly<Record<string, string>>,
): Promise<LoadedTable> {
  const context = commitContext(table);
  const { snapshotId, sequenceNumber } = context;
  const gone = new Set(removed.map((f) => f.path));
  const manifests: ManifestFile[] = [];
  return withCleanup(context, async () => {
    if (added.length > 0 || operation === 'replace')
      manifests.push(
        await writeManifest(
          context,
          added.map((file) => ({ status: EntryStatus.Added, snapshotId, sequenceNumber, file })),
          0,
        ),
      );
    let index = 1;
    for (const manifest of (await manifestsOf(table, context.parent)).filter(holdsLiveFiles)) {
      const entries = await readManifest(table.files, manifest);
      if (!entries.some((e) => e.status !== EntryStatus.Deleted && gone.has(e.file.path))) {
        manifests.push(manifest);
        continue;
      }
      const rewritten = entries
        .filter((e) => e.status !== EntryStatus.Deleted)
        .map((e) =>
          gone.has(e.file.path)
            ? { ...e, status: EntryStatus.Deleted, snapshotId }
            : { ...e, status: EntryStatus.Existing },
        );
      manifests.push(await writeManifest(context, rewritten, index++));
    }
    const found = manifests.reduce((n, m) => n + (m.addedSnapshotId === snapshotId ? m.deletedFiles : 0), 0);
    if (found !== gone.size)
      throw new Error(
        `${table.spec.name}: ${gone.size - found} of the files to replace are not live in the current snapshot`,
      );
    return commitSnapshot(context, { operation, manifests, added, removed, summary, properties });
  });
}

/**
 * A new snapshot (an `overwrite`) whose contents are `target`'s, an earlier snapshot of the table:
 * it carries `target`'s manifests over as they are, so each file keeps the snapshot and sequence
 * number that added it. The history between them stays in the metadata.
 */
export async function restoreSnapshot(
  table: LoadedTable,
  target: Snapshot | undefined,
  summary: SnapshotSummary,
): Promise<LoadedTable> {
  const context = commitContext(table);
  const holds = await liveFiles(table, target);
  const current = await liveFiles(table, context.parent);
  const paths = (files: readonly LiveFile[]) => new Set(files.map((f) => f.file.path));
  const [held, live] = [paths(holds), paths(current)];
  const added = holds.filter((f) => !live.has(f.file.path)).map((f) => f.file);
  const removed = current.filter((f) => !held.has(f.file.path)).map((f) => f.file);
  const manifests = await manifestsOf(table, target);
  return withCleanup(context, () =>
    commitSnapshot(context, {
      operation: 'overwrite',
      manifests,
      added,
      removed,
      summary,
      holds: holds.map((f) => f.file),
    }),
  );
}

async function commitSnapshot(context: CommitContext, plan: SnapshotPlan): Promise<LoadedTable> {
  const { table, parent, snapshotId, sequenceNumber, schema } = context;
  const listPath = await writeMetadataFile(
    context,
    `snap-${snapshotId}-1-${context.commitId}.avro`,
    await encodeManifestList(plan.manifests, { id: snapshotId, parentId: parent?.['snapshot-id'], sequenceNumber }),
  );

  const { added, removed } = plan;
  const totals = parentTotals(parent);
  const addedRecords = sum(added, (f) => f.recordCount);
  const addedSize = sum(added, (f) => f.fileSizeInBytes);
  const removedRecords = sum(removed, (f) => f.recordCount);
  const removedSize = sum(removed, (f) => f.fileSizeInBytes);
  const after = plan.holds
    ? {
        files: plan.holds.length,
        records: sum(plan.holds, (f) => f.recordCount),
        size: sum(plan.holds, (f) => f.fileSizeInBytes),
      }
    : plan.operation === 'overwrite'
      ? { files: added.length, records: addedRecords, size: addedSize }
      : {
          files: totals.files + added.length - removed.length,
          records: totals.records + addedRecords - removedRecords,
          size: totals.size + addedSize - removedSize,
        };
  const now = Math.max(Date.now(), (parent?.['timestamp-ms'] ?? 0) + 1);
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
    'sequence-number': sequenceNumber,
    'timestamp-ms': now,
    'manifest-list': listPath,
    'schema-id': schema['schema-id'],
    summary: {
      operation: plan.operation,
      ...plan.summary,
      'added-data-files': String(added.length),
      'added-records': String(addedRecords),
      'added-files-size': String(addedSize),
      ...(removed.length > 0
        ? {
            'deleted-data-files': String(removed.length),
            'deleted-records': String(removedRecords),
            'removed-files-size': String(removedSize),
          }
        : {}),
      'total-data-files': String(after.files),
      'total-records': String(after.records),
      'total-files-size': String(after.size),
      'total-delete-files': '0',
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
    },
  };
  const updates: TableUpdate[] = [
    { action: 'add-snapshot', snapshot },
    { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshotId },
  ];
  if (plan.properties && Object.keys(plan.properties).length > 0)
    updates.push({ action: 'set-properties', updates: plan.properties });
  return table.catalog.commit(table, updates, [...identity(table), mainIsStill(parent)]);
}

/** The requirement that the table is still the one loaded (not dropped and created again). */
function identity(table: LoadedTable): TableRequirement[] {
  return [{ type: 'assert-table-uuid', uuid: table.metadata['table-uuid'] }];
}

function parentTotals(parent: Snapshot | undefined) {
  const n = (key: string) => Number(parent?.summary[key] ?? 0);
  return { files: n('total-data-files'), records: n('total-records'), size: n('total-files-size') };
}

/**
 * Removes the `expired` snapshots from the table's metadata (the refs, and so the current snapshot,
 * are never among them) and sets `properties`, in one commit. Data and manifests are left for
 * orphan removal.
 */
export async function expireSnapshots(
  table: LoadedTable,
  expired: ReadonlySet<SnapshotId>,
  properties: Readonly<Record<string, string>>,
): Promise<LoadedTable> {
  const referenced = Object.values(table.metadata.refs ?? {}).map((r) => BigInt(r['snapshot-id']));
  const clash = referenced.find((id) => expired.has(id));
  if (clash !== undefined)
    throw new Error(`${table.spec.name}: snapshot ${clash} is named by a ref and cannot be expired`);
  const updates: TableUpdate[] = [{ action: 'remove-snapshots', 'snapshot-ids': [...expired] }];
  if (Object.keys(properties).length > 0) updates.push({ action: 'set-properties', updates: properties });
  return table.catalog.commit(table, updates, [...identity(table), mainIsStill(currentSnapshot(table.metadata))]);
}
