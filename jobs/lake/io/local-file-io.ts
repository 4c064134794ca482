/**
 * The volume's FileIO: `file:` URIs (Java's Hadoop paths are written unescaped, `file:/a b/c`) on a
 * POSIX file system. Writes are durable (fsync of the file and of its directory entry); `create`
 * uses link(2), which fails when the name exists, so of two writers exactly one creates an object.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDirectory, writeFileDurably } from '../atomic.ts';
import { FileNotFoundError, type FileInfo, type FileIO, type InputFile, type OutputFile } from './file-io.ts';

/** A `file:` URI (or a plain absolute path) as a local path. */
export function localPath(uri: string): string {
  if (uri.startsWith('file://')) return uri.slice('file://'.length);
  if (uri.startsWith('file:')) return uri.slice('file:'.length);
  if (uri.startsWith('/')) return uri;
  throw new Error(`${uri}: not a local (file:) location`);
}

export function fileUri(localAbsolutePath: string): string {
  return `file:${localAbsolutePath}`;
}

const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

function versionOf(stat: fs.Stats): string {
  return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
}

/** A temporary name beside `file`, unique to this process and moment (a writer's own). */
function temporaryBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`);
}

export class LocalFileIO implements FileIO {
  async read(uri: string): Promise<Uint8Array> {
    try {
      return fs.readFileSync(localPath(uri));
    } catch (error) {
      if (missing(error)) throw new FileNotFoundError(uri);
      throw error;
    }
  }

  async readVersioned(uri: string) {
    const file = localPath(uri);
    try {
      const fd = fs.openSync(file, 'r');
      try {
        const version = versionOf(fs.fstatSync(fd));
        return { bytes: fs.readFileSync(fd), version };
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
  }

  async open(uri: string): Promise<InputFile> {
    const file = localPath(uri);
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (error) {
      if (missing(error)) throw new FileNotFoundError(uri);
      throw error;
    }
    const byteLength = fs.fstatSync(fd).size;
    fs.closeSync(fd);
    return {
      uri,
      byteLength,
      async slice(start: number, end = byteLength): Promise<ArrayBuffer> {
        const length = Math.max(0, Math.min(end, byteLength) - start);
        const buffer = new ArrayBuffer(length);
        const handle = await fs.promises.open(file, 'r');
        try {
          let read = 0;
          while (read < length) {
            const { bytesRead } = await handle.read(new Uint8Array(buffer), read, length - read, start + read);
            if (bytesRead === 0) throw new Error(`${file} ended at ${start + read} bytes, reading ${start}..${end}`);
            read += bytesRead;
          }
        } finally {
          await handle.close();
        }
        return buffer;
      },
    };
  }

  async stat(uri: string): Promise<FileInfo | undefined> {
    try {
      const stat = fs.statSync(localPath(uri));
      return stat.isFile() ? { uri, size: stat.size, modifiedMs: stat.mtimeMs } : undefined;
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
  }

  async write(uri: string, bytes: Uint8Array): Promise<void> {
    const file = localPath(uri);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = temporaryBeside(file);
    try {
      writeFileDurably(temporary, bytes);
      fs.renameSync(temporary, file);
    } finally {
      fs.rmSync(temporary, { force: true });
    }
    fsyncDirectory(path.dirname(file));
  }

  async create(uri: string, bytes: Uint8Array): Promise<boolean> {
    const file = localPath(uri);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = temporaryBeside(file);
    try {
      writeFileDurably(temporary, bytes);
      fs.linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      fs.rmSync(temporary, { force: true });
    }
    fsyncDirectory(path.dirname(file));
    return true;
  }

  async replace(uri: string, bytes: Uint8Array, version: string): Promise<boolean> {
    const file = localPath(uri);
    const temporary = temporaryBeside(file);
    try {
      writeFileDurably(temporary, bytes);
      let current: string;
      try {
        current = versionOf(fs.statSync(file));
      } catch (error) {
        if (missing(error)) return false;
        throw error;
      }
      if (current !== version) return false;
      fs.renameSync(temporary, file);
    } finally {
      fs.rmSync(temporary, { force: true });
    }
    fsyncDirectory(path.dirname(file));
    return true;
  }

  output(uri: string): OutputFile {
    const file = localPath(uri);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return {
      uri,
      localPath: file,
      // The writer fsyncs the file itself; its directory entry is made durable here.
      publish: async () => fsyncDirectory(path.dirname(file)),
      discard: async () => fs.rmSync(file, { force: true }),
    };
  }

  async *list(prefix: string): AsyncIterable<FileInfo> {
    const walk = function* (dir: string): Generator<FileInfo> {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch (error) {
        if (missing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) yield* walk(full);
        else if (entry.isFile()) {
          try {
            const stat = fs.statSync(full);
            yield { uri: fileUri(full), size: stat.size, modifiedMs: stat.mtimeMs };
          } catch (error) {
            if (!missing(error)) throw error;
          }
        }
      }
    };
    yield* walk(localPath(prefix));
  }

  async children(prefix: string): Promise<string[]> {
    try {
      return fs.readdirSync(localPath(prefix)).sort();
    } catch (error) {
      if (missing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw error;
    }
  }

  async touch(uri: string, ms: number): Promise<void> {
    const file = localPath(uri);
    const stat = fs.statSync(file);
    if (stat.mtimeMs < ms) fs.utimesSync(file, stat.atime, new Date(ms));
  }

  async delete(uri: string): Promise<void> {
    fs.rmSync(localPath(uri), { force: true });
  }

  join(base: string, relative: string): string {
    return fileUri(path.join(localPath(base), ...relative.split('/')));
  }

  contains(location: string, uri: string): boolean {
    return localContains(location, uri);
  }

  canonical(uri: string): string {
    return fileUri(path.resolve(localPath(uri)));
  }
}

/**
 * Whether `uri` names a file at or below the directory `location`, both as written (no `..` climbs
 * out) and as the file system resolves it (no symbolic link on the way leads out).
 */
export function localContains(location: string, uri: string): boolean {
  let root: string;
  let file: string;
  try {
    root = path.resolve(localPath(location));
    file = localPath(uri);
  } catch {
    return false;
  }
  if (!path.isAbsolute(file)) return false;
  const resolved = path.resolve(file);
  if (!resolved.startsWith(root + path.sep)) return false;
  const realRoot = realpathOrSelf(root);
  // The deepest part of the path that exists, resolved: a link anywhere along it is followed.
  let existing = resolved;
  while (existing !== root && !fs.existsSync(existing)) existing = path.dirname(existing);
  const real = realpathOrSelf(existing);
  return real === realRoot || real.startsWith(realRoot + path.sep);
}

function realpathOrSelf(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}
