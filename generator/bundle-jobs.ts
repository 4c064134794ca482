// Bundles jobs/main.ts into chart/files/lakehouse.mjs: one minified ESM file the stock node:22
// image runs, small enough for a ConfigMap.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { kafkajsPatches } from './kafkajs-patches.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const JOBS_ENTRY = path.join(REPO_ROOT, 'jobs', 'main.ts');
export const BUNDLE_PATH = path.join(REPO_ROOT, 'chart', 'files', 'lakehouse.mjs');
/** A ConfigMap holds at most 1 MiB; leave room for its metadata and for growth. */
export const MAX_BUNDLE_BYTES = 900 * 1024;

// Bundled CommonJS dependencies (kafkajs) call require() for Node built-ins.
const BANNER =
  'import { createRequire as __lakehouseCreateRequire } from "node:module";\n' +
  'const require = __lakehouseCreateRequire(import.meta.url);';

export class BundleError extends Error {}

/** esbuild's options for the jobs' bundle (the KafkaJS patches included). */
export const jobsBuildOptions = (entry = JOBS_ENTRY) =>
  ({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    legalComments: 'none',
    banner: { js: BANNER },
    write: false,
    logLevel: 'silent',
    absWorkingDir: REPO_ROOT,
    plugins: [kafkajsPatches],
  }) satisfies BuildOptions;

export async function bundleJobs(entry = JOBS_ENTRY): Promise<Uint8Array> {
  if (!existsSync(entry)) {
    throw new BundleError(
      `bundle: ${path.relative(REPO_ROOT, entry)} does not exist yet; the jobs must be written before the chart can ship them`,
    );
  }
  const result = await build(jobsBuildOptions(entry));
  const [output] = result.outputFiles;
  if (!output) throw new BundleError('bundle: esbuild produced no output');
  if (output.contents.byteLength > MAX_BUNDLE_BYTES) {
    throw new BundleError(
      `bundle: ${output.contents.byteLength} bytes exceeds the ${MAX_BUNDLE_BYTES}-byte limit for a ConfigMap`,
    );
  }
  return output.contents;
}

async function main(): Promise<void> {
  const bytes = await bundleJobs();
  await mkdir(path.dirname(BUNDLE_PATH), { recursive: true });
  await writeFile(BUNDLE_PATH, bytes);
  console.log(`bundle: ${path.relative(REPO_ROOT, BUNDLE_PATH)} ${bytes.byteLength} bytes`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
