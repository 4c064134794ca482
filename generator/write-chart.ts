// Writes the generated files into a chart directory, or compares them with it.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChartFiles } from './chart-files.ts';

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? listFiles(dir, path.join(prefix, e.name)) : [path.join(prefix, e.name)])),
  );
  return nested.flat().sort();
}

const same = (a: Uint8Array, b: string | Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Files that are missing, different or extra in `dir`, relative to it. */
export async function chartDifferences(dir: string, files: ChartFiles): Promise<string[]> {
  const present = await listFiles(dir);
  const differences: string[] = [];
  for (const [file, content] of files) {
    const current = await readFile(path.join(dir, file)).catch(() => undefined);
    if (!current) differences.push(`${file} (missing)`);
    else if (!same(current, content)) differences.push(`${file} (differs)`);
  }
  for (const file of present) if (!files.has(file)) differences.push(`${file} (not generated)`);
  return differences;
}

/** Makes `dir` hold exactly `files`; returns what changed. Rewrites nothing that is already equal. */
export async function writeChart(dir: string, files: ChartFiles): Promise<string[]> {
  const changed = await chartDifferences(dir, files);
  for (const file of await listFiles(dir)) if (!files.has(file)) await rm(path.join(dir, file));
  for (const [file, content] of files) {
    const target = path.join(dir, file);
    const current = await readFile(target).catch(() => undefined);
    if (current && same(current, content)) continue;
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return changed;
}
