/**
 * Peak resident memory of a process tree, sampled from Linux's /proc: for a program that is more
 * than one process (Spark: a JVM started through shell scripts, with a Python driver beside it),
 * the sum over the process and all its descendants at each sample, the largest sum seen. Between
 * samples a short peak can be missed; a process orphaned to init leaves the tree.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** One process as /proc/<pid>/stat describes it. */
export interface ProcEntry {
  readonly pid: number;
  readonly parentPid: number;
  /** R, S, D, Z (a zombie: exited, not yet reaped) … */
  readonly state: string;
  readonly rssPages: number;
}

/** Parses the text of /proc/<pid>/stat; undefined when it is not one. */
export function parseProcStat(text: string): ProcEntry | undefined {
  // The command name, in parentheses, may hold spaces and parentheses: the fields after it start after the last ')'.
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || !Number.isInteger(pid)) return undefined;
  // After the name: state(3) ppid(4) … rss(24), numbered as in proc(5).
  const fields = text.slice(close + 2).split(' ');
  const parentPid = Number(fields[1]);
  const rssPages = Number(fields[21]);
  if (!fields[0] || !Number.isInteger(parentPid) || !Number.isInteger(rssPages)) return undefined;
  return { pid, parentPid, state: fields[0], rssPages };
}

/** Resident bytes of `root` and all its descendants among `entries` (0 when `root` is not there). */
export function treeRssBytes(entries: Iterable<ProcEntry>, root: number, pageBytes: number): number {
  const children = new Map<number, ProcEntry[]>();
  let rootEntry: ProcEntry | undefined;
  for (const entry of entries) {
    if (entry.pid === root) rootEntry = entry;
    const siblings = children.get(entry.parentPid);
    if (siblings) siblings.push(entry);
    else children.set(entry.parentPid, [entry]);
  }
  if (!rootEntry) return 0;
  let pages = 0;
  const seen = new Set<number>();
  const pending = [rootEntry];
  while (pending.length > 0) {
    const entry = pending.pop()!;
    if (seen.has(entry.pid)) continue;
    seen.add(entry.pid);
    pages += entry.rssPages;
    pending.push(...(children.get(entry.pid) ?? []));
  }
  return pages * pageBytes;
}

/** Every process /proc lists now (none where there is no Linux /proc). */
export function readProcEntries(): ProcEntry[] {
  let names: string[];
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  const entries: ProcEntry[] = [];
  for (const name of names) {
    try {
      const entry = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (entry) entries.push(entry);
    } catch {
      // it ended while we looked
    }
  }
  return entries;
}

let pageSize: number | undefined;

/** The kernel's page size (RSS in /proc is in pages): 4 KiB on x86-64, 16 or 64 KiB on some ARM kernels. */
export function pageBytes(): number {
  if (pageSize === undefined) {
    try {
      pageSize = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
    } catch {
      pageSize = 4096;
    }
  }
  return pageSize;
}

/**
 * Samples the tree under `pid` every `intervalMs` until `pid` has exited (gone from /proc, or a
 * zombie); resolves with the largest summed RSS in bytes (0 where there is no Linux /proc).
 */
export function peakTreeRssBytes(pid: number, intervalMs = 150): Promise<number> {
  const page = pageBytes();
  return new Promise((resolve) => {
    let peak = 0;
    const sample = (): boolean => {
      const entries = readProcEntries();
      const root = entries.find((e) => e.pid === pid);
      if (!root || root.state === 'Z') return false;
      peak = Math.max(peak, treeRssBytes(entries, pid, page));
      return true;
    };
    if (!sample()) return resolve(peak);
    const timer = setInterval(() => {
      if (sample()) return;
      clearInterval(timer);
      resolve(peak);
    }, intervalMs);
  });
}
