// jobs/ holds only what runs in the cluster: its modules import nothing from ci/, dev/ or test/,
// and each of them is reached from the bundle's entry point or taken by the generator into chart/.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JOBS_ENTRY, REPO_ROOT } from '../../generator/bundle-jobs.ts';

const jobsDir = path.join(REPO_ROOT, 'jobs');

function tsFilesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** Every module specifier of a file: static, type-only, re-exports and dynamic `import()`. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('.') || path.isAbsolute(specifier) || specifier.startsWith('file:');
}

function resolveSpecifier(from: string, specifier: string): string {
  const target = specifier.startsWith('file:')
    ? new URL(specifier).pathname
    : path.resolve(path.dirname(from), specifier);
  const candidates = [target, target.replace(/\.js$/, '.ts'), `${target}.ts`, path.join(target, 'index.ts')];
  return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile()) ?? target;
}

const inside = (dir: string, file: string) => !path.relative(dir, file).startsWith('..');
const relative = (file: string) => path.relative(REPO_ROOT, file);

test('the bundle is built from jobs/main.ts', () => {
  assert.is(relative(JOBS_ENTRY), path.join('jobs', 'main.ts'));
});

test('no module under jobs/ imports a file outside jobs/ (packages are fine)', () => {
  const outside: string[] = [];
  for (const file of tsFilesUnder(jobsDir)) {
    for (const specifier of importsOf(file).filter(isPathSpecifier)) {
      const target = resolveSpecifier(file, specifier);
      if (!inside(jobsDir, target)) outside.push(`${relative(file)} imports "${specifier}" (${relative(target)})`);
    }
  }
  assert.equal(
    outside,
    [],
    `jobs/ must not depend on ci/, dev/, test/ or anything else outside it:\n  ${outside.join('\n  ')}`,
  );
});

/** Modules under jobs/ that the generator imports: what it writes into chart/files from them ships too. */
function generatorImportsFromJobs(): string[] {
  return tsFilesUnder(path.join(REPO_ROOT, 'generator')).flatMap((file) =>
    importsOf(file)
      .filter(isPathSpecifier)
      .map((specifier) => resolveSpecifier(file, specifier))
      .filter((target) => inside(jobsDir, target)),
  );
}

test('every module under jobs/ is reached from jobs/main.ts or shipped by the generator (developer tooling lives in dev/)', () => {
  const reached = new Set<string>();
  const pending = [JOBS_ENTRY, ...generatorImportsFromJobs()];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (reached.has(file) || !fs.existsSync(file)) continue;
    reached.add(file);
    for (const specifier of importsOf(file).filter(isPathSpecifier)) pending.push(resolveSpecifier(file, specifier));
  }
  const unreached = tsFilesUnder(jobsDir)
    .filter((file) => !reached.has(file))
    .map(relative);
  assert.equal(
    unreached,
    [],
    `not part of what the chart ships; move it to dev/, or reach it from jobs/main.ts or the generator:\n  ${unreached.join('\n  ')}`,
  );
});

test.run();
