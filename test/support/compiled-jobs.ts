/**
 * The jobs as the tests run them: jobs/main.ts compiled once per test process by esbuild into one
 * ESM file (the chart bundle's options, but not minified and with KafkaJS as it is, as source runs
 * use it), so that each job process starts on plain node rather than compiling the sources through
 * tsx again (about a second a process, twice for a job with a Parquet worker thread). Built from
 * the sources at the first call, so it is never older than they are; removed when the process exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { jobsBuildOptions } from '../../generator/bundle-jobs.ts';

let compiled: Promise<string> | undefined;

async function compile(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-test-jobs-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const outfile = path.join(dir, 'lakehouse.mjs');
  await build({ ...jobsBuildOptions(), minify: false, plugins: [], write: true, outfile, logLevel: 'error' });
  return outfile;
}

/** The compiled entry point: `node <it> <command>` runs a job as `node lakehouse.mjs <command>` does. */
export function compiledJobs(): Promise<string> {
  compiled ??= compile();
  return compiled;
}
