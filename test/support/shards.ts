/**
 * How `npm test` splits the selected test files between its uvu processes. Most test files wait on
 * processes, Kafka and timeouts more than they compute, so two processes on 2 cores finish sooner
 * than one. Files are dealt largest first to the process with the least work, by how long each took
 * in the last whole run on this machine (kept in the tool cache), or by the estimates below.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Seconds measured by `.ci/run` on 2 cores (its "slowest test files" line), for a first run.
const estimatedSeconds: Record<string, number> = {
  'spark/spark-runs.test.ts': 191,
  'chart/kafka.test.ts': 173,
  'spark/engines-equal.test.ts': 173,
  'jobs/maintain.test.ts': 161,
  'docs/commands.test.ts': 139,
  'jobs/continuous-faults.test.ts': 139,
  'spark/spark-gaps.test.ts': 95,
  'jobs/pipeline.test.ts': 81,
  'chart/scan.test.ts': 48,
  'catalog/pipeline.test.ts': 60,
  'jobs/rollback.test.ts': 50,
  'jobs/forget.test.ts': 35,
  'jobs/replay.test.ts': 45,
};
const defaultSeconds = 10;

/** The test files uvu would select: `pattern` and `ignore` applied case-insensitively to paths relative to `testDir`. */
export function selectedTestFiles(testDir: string, pattern: string, ignore: string): string[] {
  const selected = new RegExp(pattern, 'i');
  const ignored = [/^.git/i, /node_modules/i, new RegExp(ignore, 'i')];
  const files: string[] = [];
  const visit = (dir: string, relative: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const name = path.join(relative, entry.name);
      if (ignored.some((re) => re.test(name))) continue;
      if (entry.isDirectory()) visit(path.join(dir, entry.name), name);
      else if (selected.test(name)) files.push(name);
    }
  };
  visit(testDir, '');
  return files.sort((a, b) => a.localeCompare(b));
}

/** Seconds per file from the last whole run recorded in `file`, over the estimates. */
export function knownSeconds(file: string): Record<string, number> {
  try {
    if (existsSync(file))
      return { ...estimatedSeconds, ...(JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>) };
  } catch {}
  return { ...estimatedSeconds };
}

export function recordSeconds(file: string, seconds: Record<string, number>): void {
  try {
    writeFileSync(file, `${JSON.stringify(seconds, null, 1)}\n`);
  } catch {}
}

/** `files` in `count` groups of about equal expected time (largest first to the lightest group); none empty. */
export function splitIntoShards(files: readonly string[], count: number, seconds: Record<string, number>): string[][] {
  const shards = Array.from({ length: Math.max(1, Math.min(count, files.length)) }, () => ({
    files: [] as string[],
    total: 0,
  }));
  const weight = (file: string) => seconds[file] ?? defaultSeconds;
  for (const file of [...files].sort((a, b) => weight(b) - weight(a) || a.localeCompare(b))) {
    const lightest = shards.reduce((min, shard) => (shard.total < min.total ? shard : min));
    lightest.files.push(file);
    lightest.total += weight(file);
  }
  return shards.map((shard) => shard.files.sort((a, b) => a.localeCompare(b)));
}

/** A uvu pattern that selects exactly `files`. */
export function patternFor(files: readonly string[]): string {
  return `^(${files.map((f) => f.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
}
