import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fsyncDirectory } from '../atomic.ts';
import { icebergSchema, type TableSpec } from '../table-schema.ts';
import { writeFileDurably } from './avro.ts';
import { parseJson, stringifyJson } from './json.ts';
import { fileUri } from './manifest.ts';
import { currentSchema, newTableMetadata, type TableMetadata } from './metadata.ts';

/**
 * The lake's catalog is its file system, in the layout of Iceberg's HadoopCatalog with the lake
 * root as warehouse: table `ns.t` lives in `<root>/ns/t`, version N of its metadata is
 * `metadata/vN.metadata.json`, and `metadata/version-hint.text` names the latest. Spark's
 * HadoopCatalog and PyIceberg's StaticTable read it as it is.
 *
 * A commit creates the next version's file with link(2), which fails if the file exists: of two
 * writers that start from the same version, exactly one creates the next, on any POSIX file system.
 */
export interface LoadedTable {
  readonly spec: TableSpec;
  readonly dir: string;
  readonly version: number;
  readonly metadata: TableMetadata;
}

/** Another writer committed first; the caller's view of the table is stale. */
export class CommitConflictError extends Error {
  constructor(
    readonly table: string,
    readonly version: number,
  ) {
    super(`${table}: another writer committed version ${version} first`);
  }
}

function tableDir(root: string, spec: TableSpec): string {
  return path.join(path.resolve(root), spec.namespace, spec.table);
}

const metadataDir = (dir: string) => path.join(dir, 'metadata');
const versionFile = (dir: string, version: number) => path.join(metadataDir(dir), `v${version}.metadata.json`);
const gzVersionFile = (dir: string, version: number) => path.join(metadataDir(dir), `v${version}.gz.metadata.json`);
const hintFile = (dir: string) => path.join(metadataDir(dir), 'version-hint.text');

function versionExists(dir: string, version: number): boolean {
  return fs.existsSync(versionFile(dir, version)) || fs.existsSync(gzVersionFile(dir, version));
}

/** The latest version: the hint, then any newer versions a writer made before updating the hint. */
function latestVersion(dir: string): number {
  let version = 0;
  try {
    version = Number.parseInt(fs.readFileSync(hintFile(dir), 'utf8').trim(), 10) || 0;
  } catch {
    for (const name of fs.existsSync(metadataDir(dir)) ? fs.readdirSync(metadataDir(dir)) : []) {
      const match = /^v(\d+)(\.gz)?\.metadata\.json$/.exec(name);
      if (match) version = Math.max(version, Number(match[1]));
    }
  }
  while (versionExists(dir, version + 1)) version++;
  return version;
}

function metadataFileOf(table: LoadedTable): string {
  const plain = versionFile(table.dir, table.version);
  return fs.existsSync(plain) ? plain : gzVersionFile(table.dir, table.version);
}

function readVersion(dir: string, version: number): TableMetadata {
  const plain = versionFile(dir, version);
  const bytes = fs.existsSync(plain)
    ? fs.readFileSync(plain)
    : gunzipSync(fs.readFileSync(gzVersionFile(dir, version)));
  return parseJson(bytes.toString('utf8')) as TableMetadata;
}

/** The table as of its latest committed version, or undefined when it was never created. */
export function loadTable(root: string, spec: TableSpec): LoadedTable | undefined {
  const dir = tableDir(root, spec);
  const version = latestVersion(dir);
  if (version === 0) return undefined;
  return { spec, dir, version, metadata: readVersion(dir, version) };
}

/**
 * Loads the table, creating it (version 1, no snapshot) when absent, and adding the contract's new
 * columns to an existing table's schema (a schema evolution: old snapshots keep their schema and
 * stay readable, their files read the new columns as null).
 */
export function loadOrCreateTable(root: string, spec: TableSpec, properties: Record<string, string> = {}): LoadedTable {
  const existing = loadTable(root, spec);
  if (existing) return evolveSchema(existing);
  const dir = tableDir(root, spec);
  fs.mkdirSync(metadataDir(dir), { recursive: true });
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  try {
    return publishVersion(
      { spec, dir, version: 0, metadata: undefined as never },
      newTableMetadata(spec, fileUri(dir), properties),
    );
  } catch (error) {
    if (error instanceof CommitConflictError) return loadTable(root, spec)!;
    throw error;
  }
}

function evolveSchema(table: LoadedTable): LoadedTable {
  const schema = currentSchema(table.metadata);
  const known = new Set(schema.fields.map((f) => f.id));
  const added = icebergSchema(table.spec).fields.filter((f) => !known.has(f.id));
  if (added.length === 0) return table;
  const required = added.find((f) => f.required);
  if (required)
    throw new Error(
      `${table.spec.name}: the new column ${required.name} must be optional to be added to an existing table`,
    );
  const schemaId = Math.max(...table.metadata.schemas.map((s) => s['schema-id'])) + 1;
  const next: TableMetadata = {
    ...table.metadata,
    'last-updated-ms': Date.now(),
    'last-column-id': Math.max(table.metadata['last-column-id'], ...added.map((f) => f.id)),
    schemas: [...table.metadata.schemas, { ...schema, 'schema-id': schemaId, fields: [...schema.fields, ...added] }],
    'current-schema-id': schemaId,
    'metadata-log': [...(table.metadata['metadata-log'] ?? []), metadataLogEntry(table)],
  };
  try {
    return publishVersion(table, next);
  } catch (error) {
    if (error instanceof CommitConflictError)
      return evolveSchema(loadTable(path.dirname(path.dirname(table.dir)), table.spec)!);
    throw error;
  }
}

/** Publishes `next` as the version after `base`; throws CommitConflictError if that version exists. */
export function publishVersion(base: LoadedTable, next: TableMetadata): LoadedTable {
  const version = base.version + 1;
  const target = versionFile(base.dir, version);
  const temporary = path.join(metadataDir(base.dir), `.v${version}.${process.pid}.${Date.now()}.tmp`);
  writeFileDurably(temporary, Buffer.from(stringifyJson(next, 2)));
  try {
    if (versionExists(base.dir, version)) throw new CommitConflictError(base.spec.name, version);
    fs.linkSync(temporary, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CommitConflictError(base.spec.name, version);
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  fsyncDirectory(metadataDir(base.dir));
  writeHint(base.dir, version);
  return { spec: base.spec, dir: base.dir, version, metadata: next };
}

/** The hint only speeds readers up (they look past it for newer versions), so a plain replace will do. */
function writeHint(dir: string, version: number): void {
  const temporary = path.join(metadataDir(dir), `.version-hint.${process.pid}.${Date.now()}.tmp`);
  writeFileDurably(temporary, Buffer.from(String(version)));
  fs.renameSync(temporary, hintFile(dir));
  fsyncDirectory(metadataDir(dir));
}

export function metadataLogEntry(table: LoadedTable) {
  return { 'timestamp-ms': table.metadata['last-updated-ms'], 'metadata-file': fileUri(metadataFileOf(table)) };
}
