/**
 * The lake's catalog interface, as PyIceberg's Catalog: load a table's current metadata, create a
 * table, commit a change (updates and the requirements the table must still meet), list the tables.
 * One implementation per backend (the volume: hadoop-catalog.ts). A commit that loses to another
 * writer throws CommitConflictError; the caller's view of the table is then stale.
 */
import type { TableFiles } from '../io/table-files.ts';
import type { FileIO } from '../io/file-io.ts';
import type { TableMetadata } from '../iceberg/metadata.ts';
import type { TableRequirement, TableUpdate } from '../iceberg/updates.ts';
import type { TableSpec } from '../table-schema.ts';

export interface LoadedTable {
  readonly spec: TableSpec;
  /** Where the table's files live, as the catalog places it (never as the metadata claims). */
  readonly location: string;
  /** The metadata file this state was read from. */
  readonly metadataLocation: string;
  readonly metadata: TableMetadata;
  /** The table's files, every location checked to lie inside `location`. */
  readonly files: TableFiles;
  /** The catalog it was loaded from, which commits its changes. */
  readonly catalog: Catalog;
}

export interface Catalog {
  /** Where the lake is, for messages: a directory, or a catalog's URI and warehouse. */
  readonly description: string;
  /** Whether the lake is there at all (a volume's root directory exists). */
  exists(): Promise<boolean>;
  readonly io: FileIO;
  /** The table as of its latest commit; undefined when it was never created. */
  load(spec: TableSpec): Promise<LoadedTable | undefined>;
  /** Creates the table with `metadata` (no snapshot); CommitConflictError when it exists. */
  create(spec: TableSpec, metadata: TableMetadata): Promise<LoadedTable>;
  /** Where a new table's files go. */
  locationOf(spec: TableSpec): string;
  /** Where the lake's writer lease is kept (jobs/ops/lease.ts). */
  readonly leaseLocation: string;
  /** Commits `updates` on top of `table` if `requirements` hold and no other commit came first. */
  commit(
    table: LoadedTable,
    updates: readonly TableUpdate[],
    requirements: readonly TableRequirement[],
  ): Promise<LoadedTable>;
  /** Every table the catalog holds, as namespace and name. */
  list(): Promise<{ namespace: string; table: string }[]>;
  /** The metadata files the catalog still needs for the table (maintenance never removes them). */
  keptMetadata(table: LoadedTable): Promise<Set<string>>;
}

/** Another writer committed first; the caller's view of the table is stale. */
export class CommitConflictError extends Error {
  constructor(
    readonly table: string,
    readonly detail: string,
  ) {
    super(`${table}: another writer committed first (${detail})`);
  }
}

/**
 * A commit whose outcome is unknown (the catalog failed or did not answer after receiving it): its
 * files may be part of the table now, so nothing it wrote may be removed; a later maintain removes
 * them if they are orphans.
 */
export class CommitStateUnknownError extends Error {}

/** Whether the files of a failed commit may be removed: only when it is known not to have landed. */
export function mayRemoveFilesAfter(error: unknown): boolean {
  return !(error instanceof CommitStateUnknownError);
}

/**
 * A table whose metadata cannot be resolved: its current snapshot, a ref, its schema or a file its
 * metadata needs is missing or malformed. Every reader stops, naming it; nothing reads it as empty.
 */
export class DamagedTableError extends Error {
  constructor(
    readonly table: string,
    readonly where: string,
    readonly detail: string,
  ) {
    super(`${table} is damaged: ${where}: ${detail}; nothing was read as if it were empty or changed`);
  }
}
