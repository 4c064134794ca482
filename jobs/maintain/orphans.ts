import fs from 'node:fs';
import path from 'node:path';
import type { LoadedTable } from '../lake/iceberg/catalog.ts';
import { EntryStatus, localPath, readManifest, readManifestList } from '../lake/iceberg/manifest.ts';
import type { Snapshot } from '../lake/iceberg/metadata.ts';
import { summaryKeys } from '../lake/table-schema.ts';

/**
 * The files `snapshots` need, as local paths: their manifest lists, manifests and live data files,
 * and the gold state file a snapshot names.
 */
export async function filesOf(table: LoadedTable, snapshots: readonly Snapshot[]): Promise<Set<string>> {
  const files = new Set<string>();
  const manifests = new Map<string, Parameters<typeof readManifest>[0]>();
  for (const snapshot of snapshots) {
    const list = localPath(snapshot['manifest-list']);
    files.add(list);
    if (!fs.existsSync(list)) continue;
    for (const manifest of await readManifestList(list)) manifests.set(localPath(manifest.path), manifest);
    const state = snapshot.summary[summaryKeys.goldVehicles];
    if (state) files.add(path.resolve(table.dir, state));
  }
  for (const [file, manifest] of manifests) {
    files.add(file);
    if (!fs.existsSync(file)) continue;
    for (const entry of await readManifest(manifest))
      if (entry.status !== EntryStatus.Deleted) files.add(localPath(entry.file.path));
  }
  return files;
}

/** The metadata files the current version needs: itself, the versions its log keeps, and the hint. */
function metadataFiles(table: LoadedTable): Set<string> {
  const dir = path.join(table.dir, 'metadata');
  const files = new Set([
    path.join(dir, 'version-hint.text'),
    ...(table.metadata['metadata-log'] ?? []).map((e) => localPath(e['metadata-file'])),
  ]);
  for (const name of [`v${table.version}.metadata.json`, `v${table.version}.gz.metadata.json`])
    files.add(path.join(dir, name));
  return files;
}

function* walk(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

/** A Hadoop checksum file (`.x.crc`, which Spark's writers leave beside x) goes with the file it checks. */
function checkedFile(file: string): string | undefined {
  const match = /^\.(.+)\.crc$/.exec(path.basename(file));
  return match ? path.join(path.dirname(file), match[1]) : undefined;
}

export interface OrphanResult {
  readonly removed: number;
  readonly bytes: number;
}

/**
 * Deletes the files under the table's directory that no retained snapshot or kept metadata version
 * needs and that are older than `maxAgeMs`: a writer's files are never touched before they are that
 * old, committed or not. A file that only expired snapshots needed counts its age from when the
 * newest of them stopped being current (`supersededAt`), so a reader of it has that long to finish.
 */
export async function removeOrphans(
  table: LoadedTable,
  maxAgeMs: number,
  expiredFiles: ReadonlySet<string>,
  supersededAt: number,
  now = Date.now(),
): Promise<OrphanResult> {
  const needed = await filesOf(table, table.metadata.snapshots ?? []);
  for (const file of metadataFiles(table)) needed.add(file);
  let removed = 0;
  let bytes = 0;
  for (const file of walk(table.dir)) {
    const checked = checkedFile(file);
    if (needed.has(file) || (checked && (needed.has(checked) || fs.existsSync(checked)))) continue;
    // A version newer than the one read belongs to a writer that committed since.
    const version = /^v(\d+)(\.gz)?\.metadata\.json$/.exec(path.basename(file));
    if (version && Number(version[1]) >= table.version) continue;
    const stat = fs.statSync(file);
    let modified = stat.mtimeMs;
    if (expiredFiles.has(file) && modified < supersededAt) {
      modified = supersededAt;
      fs.utimesSync(file, stat.atime, new Date(supersededAt));
    }
    if (modified > now - maxAgeMs) continue;
    fs.rmSync(file, { force: true });
    removed++;
    bytes += stat.size;
  }
  for (const file of walk(table.dir)) {
    const checked = checkedFile(file);
    if (checked && !fs.existsSync(checked) && fs.statSync(file).mtimeMs <= now - maxAgeMs)
      fs.rmSync(file, { force: true });
  }
  return { removed, bytes };
}
