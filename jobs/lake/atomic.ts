import fs from 'node:fs';
import path from 'node:path';

/** A name in the same directory that readers ignore (they only read `*.parquet`). */
export function temporaryName(finalPath: string): string {
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}.${Date.now()}.tmp`);
}

export function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes a fully written and fsynced temporary file visible under its final name, durably. */
export function publishFile(temporaryPath: string, finalPath: string): void {
  fs.renameSync(temporaryPath, finalPath);
  fsyncDirectory(path.dirname(finalPath));
}

/**
 * Replaces directory `target` by `staged` (both under the same parent) with two renames: readers
 * see the old layer whole or the new one whole, never a mix (for an instant, no directory).
 */
export function replaceDirectory(staged: string, target: string): void {
  const parent = path.dirname(target);
  const retired = path.join(parent, `.${path.basename(target)}.old.${process.pid}.${Date.now()}`);
  const hadTarget = fs.existsSync(target);
  if (hadTarget) fs.renameSync(target, retired);
  fs.renameSync(staged, target);
  fsyncDirectory(parent);
  if (hadTarget) fs.rmSync(retired, { recursive: true, force: true });
}

/** Removes leftovers of runs that died between writing and publishing. */
export function removeStaleTemporaries(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let removed = 0;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith('.') && (name.endsWith('.tmp') || name.includes('.old.') || name.includes('.staging.'))) {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

export function listParquetFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.parquet') && !name.startsWith('.'))
    .sort()
    .map((name) => path.join(dir, name));
}
