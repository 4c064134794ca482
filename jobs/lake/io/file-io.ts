/**
 * The lake's file interface, as PyIceberg's FileIO: whole-object reads and writes, ranged reads for
 * Parquet, listing, deleting. One implementation per storage (the volume: local-file-io.ts). Every
 * location is a URI (`file:/lake/bronze/vehicles/data/x.parquet`); what the lake's metadata names
 * reaches a FileIO only through a TableFiles (table-files.ts), which keeps it inside its table.
 */

export interface FileInfo {
  readonly uri: string;
  readonly size: number;
  readonly modifiedMs: number;
}

/** A readable object, as hyparquet's AsyncBuffer reads it: its size and ranges of its bytes. */
export interface InputFile {
  readonly uri: string;
  readonly byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer>;
}

/** A new object being written through a local file; part of the storage only once published. */
export interface OutputFile {
  readonly uri: string;
  /** Where a writer puts the bytes (the final path on a volume, a staging file otherwise). */
  readonly localPath: string;
  /** Makes the written bytes the object at `uri` (durably). */
  publish(): Promise<void>;
  /** Removes whatever was written, published or not. */
  discard(): Promise<void>;
}

/** The version of an object as read, for a later write that must find it unchanged. */
export interface Versioned {
  readonly bytes: Uint8Array;
  readonly version: string;
}

export interface FileIO {
  /** The whole object; FileNotFoundError when there is none. */
  read(uri: string): Promise<Uint8Array>;
  /** The object with its version; undefined when there is none. */
  readVersioned(uri: string): Promise<Versioned | undefined>;
  /** The object for ranged reads; FileNotFoundError when there is none. */
  open(uri: string): Promise<InputFile>;
  /** Size and modification time; undefined when there is no such object. */
  stat(uri: string): Promise<FileInfo | undefined>;
  /** Writes the object durably, replacing what was there. */
  write(uri: string, bytes: Uint8Array): Promise<void>;
  /** Writes the object only if there is none (link(2), If-None-Match): false when one exists. */
  create(uri: string, bytes: Uint8Array): Promise<boolean>;
  /**
   * Replaces the object only while it is at `version` (as readVersioned gave it): false when it
   * changed. On a volume the check and the replace are two steps; callers confirm by reading back.
   */
  replace(uri: string, bytes: Uint8Array, version: string): Promise<boolean>;
  /** A new object written through a local file (Parquet writers write files). */
  output(uri: string): OutputFile;
  /** Every object under the prefix (a directory's files, recursively). */
  list(prefix: string): AsyncIterable<FileInfo>;
  /** The names directly under the prefix (a directory's entries, files and directories), sorted. */
  children(prefix: string): Promise<string[]>;
  /**
   * Makes the object's modification time at least `ms` (a volume sets it; an object store, which
   * cannot set a past time, rewrites the object, so its time becomes now).
   */
  touch(uri: string, ms: number): Promise<void>;
  /** Removes the object; nothing when there is none. */
  delete(uri: string): Promise<void>;
  /** The URI of `relative` (slash-separated) under `base`. */
  join(base: string, relative: string): string;
  /** Whether `uri` lies under `location` as the storage resolves it (no `..` or link leads out). */
  contains(location: string, uri: string): boolean;
  /** The one spelling of `uri` this storage compares by (`file:///x` and `file:/x` are one file). */
  canonical(uri: string): string;
}

/** An object that should be there is not. */
export class FileNotFoundError extends Error {
  readonly code = 'ENOENT';
  constructor(readonly uri: string) {
    super(`${uri} does not exist`);
  }
}
