// AppCDS: the first broker that stops gracefully leaves an archive of the classes it loaded; later
// JVMs map it instead of parsing ~90 jars again, which roughly halves broker start on 2 busy cores.
// The archive is keyed by the java binary and the jar set; HotSpot itself also refuses (and then
// ignores) an archive that does not match its build or classpath.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, copyFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { kafkaHome } from './paths.ts';

function javaBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'java');
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return undefined;
}

function archivePath(): string | undefined {
  const java = javaBinary();
  if (!java) return undefined;
  const { size, mtimeMs } = statSync(java);
  let jarsStamp = '';
  try {
    jarsStamp = readFileSync(join(kafkaHome(), '.complete'), 'utf8');
  } catch {
    return undefined;
  }
  const key = createHash('sha256').update(`${java}\0${size}\0${mtimeMs}\0${jarsStamp}`).digest('hex').slice(0, 16);
  return join(kafkaHome(), 'cds', `${key}.jsa`);
}

/**
 * JVM flags: map the cached archive when there is one; otherwise, when dumpFile is given, have this
 * JVM write an archive there at exit (see adoptArchive). JVM warnings go to stderr so a tool's
 * stdout stays parseable.
 */
export function cdsFlags(dumpFile?: string): string[] {
  const logging = ['-Xlog:disable', '-Xlog:all=warning:stderr'];
  const archive = archivePath();
  if (archive && existsSync(archive)) return [...logging, `-XX:SharedArchiveFile=${archive}`];
  if (archive && dumpFile) return [...logging, `-XX:ArchiveClassesAtExit=${dumpFile}`];
  return logging;
}

/** Moves an archive written at a graceful JVM exit into the cache, unless one is already there. */
export function adoptArchive(dumpFile: string): void {
  const archive = archivePath();
  if (!archive || !existsSync(dumpFile)) return;
  if (!existsSync(archive)) {
    mkdirSync(join(archive, '..'), { recursive: true });
    const staging = `${archive}.${process.pid}.tmp`;
    copyFileSync(dumpFile, staging);
    renameSync(staging, archive);
  }
  rmSync(dumpFile, { force: true });
}
