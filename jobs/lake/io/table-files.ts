/**
 * A table's files, as its metadata names them: every location read from metadata, a manifest or a
 * snapshot summary is untrusted (a hand-edited or tampered file can name anything), so each one is
 * resolved here and refused unless it lies inside the table's location, before anything is read,
 * written or deleted. The location itself comes from the catalog, never from the metadata.
 */
import type { FileInfo, FileIO, InputFile, OutputFile, Versioned } from './file-io.ts';

/** A location from a table's metadata that is not inside the table: the job stops, naming it. */
export class OutsideTableError extends Error {
  constructor(
    readonly table: string,
    readonly uri: string,
    readonly location: string,
    readonly what: string,
  ) {
    super(
      `${table}: its ${what} ${JSON.stringify(uri)} is outside the table's location ${location}; ` +
        'nothing outside the lake is read, written or deleted (the metadata was changed by hand or damaged)',
    );
  }
}

const scheme = /^[a-z][a-z0-9+.-]*:/i;

export class TableFiles {
  constructor(
    readonly io: FileIO,
    readonly table: string,
    readonly location: string,
  ) {}

  /** `uri` (absolute, or relative to the table's location), checked to lie inside the table. */
  resolve(uri: string, what: string): string {
    const absolute = typeof uri === 'string' && (scheme.test(uri) || uri.startsWith('/')) ? uri : undefined;
    const resolved = absolute ?? (typeof uri === 'string' && uri !== '' ? this.io.join(this.location, uri) : '');
    if (!resolved || !this.io.contains(this.location, resolved))
      throw new OutsideTableError(this.table, String(uri), this.location, what);
    return this.io.canonical(resolved);
  }

  /** Where `uri` (checked) lies under the table's location, slash-separated. */
  relative(uri: string, what: string): string {
    const resolved = this.resolve(uri, what);
    const root = this.io.canonical(this.location);
    return resolved.slice(root.length).replace(/^\/+/, '');
  }

  /** The URI of a new file under the table (a name this code makes, not one read from metadata). */
  child(relative: string): string {
    return this.resolve(this.io.join(this.location, relative), 'new file');
  }

  read(uri: string, what: string): Promise<Uint8Array> {
    return this.io.read(this.resolve(uri, what));
  }

  readVersioned(uri: string, what: string): Promise<Versioned | undefined> {
    return this.io.readVersioned(this.resolve(uri, what));
  }

  open(uri: string, what: string): Promise<InputFile> {
    return this.io.open(this.resolve(uri, what));
  }

  stat(uri: string, what: string): Promise<FileInfo | undefined> {
    return this.io.stat(this.resolve(uri, what));
  }

  write(relative: string, bytes: Uint8Array): Promise<void> {
    return this.io.write(this.child(relative), bytes);
  }

  create(relative: string, bytes: Uint8Array): Promise<boolean> {
    return this.io.create(this.child(relative), bytes);
  }

  output(relative: string): OutputFile {
    return this.io.output(this.child(relative));
  }

  touch(uri: string, ms: number, what: string): Promise<void> {
    return this.io.touch(this.resolve(uri, what), ms);
  }

  delete(uri: string, what: string): Promise<void> {
    return this.io.delete(this.resolve(uri, what));
  }

  /** Every file under the table's location. */
  list(): AsyncIterable<FileInfo> {
    return this.io.list(this.location);
  }
}
