/**
 * Which directory `npm run local` writes its lake to. A run never deletes anything: by default it
 * creates a new `run-<time>` directory of its own; a directory it is given is used only if it is
 * new, empty, or was created by an earlier local run (it then holds the marker file).
 */
import fs from 'node:fs';
import path from 'node:path';

export const LAKE_MARKER = '.lakehouse-local';
export const DEFAULT_LAKES_DIR = './data';

/** The lake cannot be used; the local runner exits 2 with this one-line message. */
export class LakeRefused extends Error {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`refusing to write the lake into ${dir}: ${reason}`);
    this.name = 'LakeRefused';
  }
}

export interface Lake {
  /** Absolute path of the lake root. */
  readonly dir: string;
  /** True when the lake holds nothing yet (besides the marker). */
  readonly empty: boolean;
}

/** `given` is the directory the user named (--data-dir or LAKEHOUSE_DATA_DIR), if any. */
export function chooseLake(given: string | undefined, lakesDir = DEFAULT_LAKES_DIR, now = new Date()): Lake {
  return given === undefined ? newLake(lakesDir, now) : givenLake(given);
}

function newLake(lakesDir: string, now: Date): Lake {
  const parent = path.resolve(lakesDir);
  fs.mkdirSync(parent, { recursive: true });
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  for (let n = 1; ; n++) {
    const dir = path.join(parent, `run-${stamp}${n > 1 ? `-${n}` : ''}`);
    try {
      fs.mkdirSync(dir); // not recursive: fails if another run took this name first
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    mark(dir);
    return { dir, empty: true };
  }
}

function givenLake(given: string): Lake {
  const dir = path.resolve(given);
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new LakeRefused(dir, 'it is a file, not a directory');
    if (code !== 'ENOENT') throw error;
    fs.mkdirSync(dir, { recursive: true });
    entries = [];
  }
  if (entries.length === 0) {
    mark(dir);
    return { dir, empty: true };
  }
  if (!entries.includes(LAKE_MARKER)) {
    throw new LakeRefused(
      dir,
      `it is not empty and was not created by npm run local (no ${LAKE_MARKER}); name a new or empty directory, or leave --data-dir and LAKEHOUSE_DATA_DIR unset for a fresh lake`,
    );
  }
  return { dir, empty: entries.length === 1 };
}

function mark(dir: string): void {
  const note = { createdBy: 'npm run local', createdAt: new Date().toISOString() };
  fs.writeFileSync(path.join(dir, LAKE_MARKER), JSON.stringify(note) + '\n', { flag: 'wx' });
}
