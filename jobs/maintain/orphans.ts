import type { LoadedTable } from '../lake/catalog/catalog.ts';
import { EntryStatus, readManifest, readManifestList, type ManifestFile } from '../lake/iceberg/manifest.ts';
import type { Snapshot } from '../lake/iceberg/metadata.ts';
import type { FileInfo } from '../lake/io/file-io.ts';
import { summaryKeys } from '../lake/table-schema.ts';

/**
 * The files `snapshots` need (their manifest lists, manifests and live data files, and the gold
 * state file a snapshot names), as the table's storage spells them. Every location comes from the
 * table's metadata and is checked to lie inside the table.
 */
export async function filesOf(table: LoadedTable, snapshots: readonly Snapshot[]): Promise<Set<string>> {
  const files = new Set<string>();
  const manifests = new Map<string, ManifestFile>();
  for (const snapshot of snapshots) {
    const list = table.files.resolve(snapshot['manifest-list'], 'manifest list');
    files.add(list);
    const state = snapshot.summary[summaryKeys.goldVehicles];
    if (state) files.add(table.files.resolve(state, 'gold state file'));
    if (!(await table.files.stat(list, 'manifest list'))) continue;
    for (const manifest of await readManifestList(table.files, list))
      manifests.set(table.files.resolve(manifest.path, 'manifest'), manifest);
  }
  for (const [file, manifest] of manifests) {
    files.add(file);
    if (!(await table.files.stat(file, 'manifest'))) continue;
    for (const entry of await readManifest(table.files, manifest))
      if (entry.status !== EntryStatus.Deleted) files.add(table.files.resolve(entry.file.path, 'data file'));
  }
  return files;
}

/** A Hadoop checksum file (`.x.crc`, which Spark's writers leave beside x) goes with the file it checks. */
function checkedFile(uri: string): string | undefined {
  const slash = uri.lastIndexOf('/');
  const match = /^\.(.+)\.crc$/.exec(uri.slice(slash + 1));
  return match ? `${uri.slice(0, slash + 1)}${match[1]}` : undefined;
}

export interface OrphanResult {
  readonly removed: number;
  readonly bytes: number;
}

/**
 * Deletes the files under the table's location that no retained snapshot or kept metadata version
 * needs and that are older than `maxAgeMs`: a writer's files are never touched before they are that
 * old, committed or not. A file that only expired snapshots needed counts its age from when the
 * newest of them stopped being current (`supersededAt`), so a reader of it has that long to finish;
 * that time is set on the file, so the next run still counts from it.
 */
export async function removeOrphans(
  table: LoadedTable,
  maxAgeMs: number,
  expiredFiles: ReadonlySet<string>,
  supersededAt: number,
  now = Date.now(),
): Promise<OrphanResult> {
  const needed = await filesOf(table, table.metadata.snapshots ?? []);
  for (const file of await table.catalog.keptMetadata(table)) needed.add(table.files.resolve(file, 'metadata file'));
  const current = await table.files.stat(table.metadataLocation, 'metadata file');
  const listed: FileInfo[] = [];
  for await (const file of table.files.list()) listed.push({ ...file, uri: table.files.resolve(file.uri, 'file') });
  const present = new Set(listed.map((f) => f.uri));
  let removed = 0;
  let bytes = 0;
  for (const file of listed) {
    const checked = checkedFile(file.uri);
    if (needed.has(file.uri) || (checked && present.has(checked))) continue;
    // Metadata written since the version read belongs to a writer that committed meanwhile.
    if (file.uri.endsWith('.metadata.json') && current && file.modifiedMs >= current.modifiedMs) continue;
    let modified = file.modifiedMs;
    if (expiredFiles.has(file.uri) && modified < supersededAt) {
      await table.files.touch(file.uri, supersededAt, 'file');
      modified = supersededAt;
    }
    if (modified > now - maxAgeMs) continue;
    await table.files.delete(file.uri, 'orphan file');
    present.delete(file.uri);
    removed++;
    bytes += file.size;
  }
  for (const file of listed) {
    const checked = checkedFile(file.uri);
    if (checked && !present.has(checked) && present.has(file.uri) && file.modifiedMs <= now - maxAgeMs)
      await table.files.delete(file.uri, 'checksum file');
  }
  return { removed, bytes };
}
