// jobs/ holds only what runs in the cluster: its modules import nothing from ci/, dev/ or test/,
// and each of them is reached from the bundle's entry point or taken by the generator into chart/.
// Across the repository: no module imports from test/ but tests, and no modules import each other
// in a circle (type-only imports count: a type shared by two modules belongs to one of them).
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

/**
 * Every module specifier of a file: static, type-only, re-exports and dynamic `import()`, and the
 * declaration files it names with `/// <reference path>`.
 */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return [...info.importedFiles, ...info.referencedFiles].map((f) => f.fileName);
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

/** The repository's own TypeScript modules: every `.ts` outside node_modules, dot directories and local output. */
function repositoryModules(): string[] {
  return fs
    .readdirSync(REPO_ROOT, { withFileTypes: true })
    .filter((entry) => !entry.name.startsWith('.') && !['node_modules', 'data', 'tmp'].includes(entry.name))
    .flatMap((entry) =>
      entry.isDirectory()
        ? tsFilesUnder(path.join(REPO_ROOT, entry.name))
        : entry.name.endsWith('.ts')
          ? [path.join(REPO_ROOT, entry.name)]
          : [],
    );
}

/** Each module's imports of other repository modules. */
function importGraph(modules: readonly string[]): Map<string, string[]> {
  const known = new Set(modules);
  return new Map(
    modules.map((file) => [
      file,
      importsOf(file)
        .filter(isPathSpecifier)
        .map((specifier) => resolveSpecifier(file, specifier))
        .filter((target) => known.has(target)),
    ]),
  );
}

/** One shortest circle through `start` inside `members` (a strongly connected set), start repeated at the end. */
function circleThrough(start: string, graph: Map<string, string[]>, members: Set<string>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const next of graph.get(file) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const loop = [file];
        while (loop[0] !== start) loop.unshift(cameFrom.get(loop[0])!);
        return [...loop, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  return [start];
}

interface Circle {
  /** A shortest circle of imports, its first module repeated at the end. */
  readonly loop: string[];
  /** The other modules of its group: each of them is on a circle with the loop's. */
  readonly others: string[];
}

/** The import circles: one per strongly connected group of modules (Tarjan). */
function importCircles(graph: Map<string, string[]>): Circle[] {
  let counter = 0;
  const index = new Map<string, number>();
  const lowest = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: Circle[] = [];
  const visit = (file: string): void => {
    index.set(file, counter);
    lowest.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        lowest.set(file, Math.min(lowest.get(file)!, lowest.get(next)!));
      } else if (onStack.has(next)) {
        lowest.set(file, Math.min(lowest.get(file)!, index.get(next)!));
      }
    }
    if (lowest.get(file) !== index.get(file)) return;
    const group = new Set<string>();
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.add(member);
    } while (member !== file);
    if (group.size > 1 || graph.get(file)?.includes(file)) {
      const loop = circleThrough(file, graph, group);
      circles.push({ loop, others: [...group].filter((member) => !loop.includes(member)).sort() });
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return circles;
}

test('the circle finder finds a circle, a self-import and no circle where there is none', () => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a', 'd']],
    ['d', []],
    ['e', ['e']],
    ['f', ['d']],
    ['g', ['h', 'i']],
    ['h', ['g']],
    ['i', ['g']],
  ]);
  assert.equal(
    importCircles(graph)
      .map(({ loop, others }) => `${loop.join(' -> ')} ${others}`)
      .sort(),
    ['a -> b -> c -> a ', 'e -> e ', 'g -> h -> g i'],
  );
  assert.equal(
    importCircles(
      new Map([
        ['a', ['b']],
        ['b', []],
      ]),
    ),
    [],
  );
});

test('no TypeScript modules of the repository import each other in a circle (type-only imports included)', () => {
  const circles = importCircles(importGraph(repositoryModules())).map(
    ({ loop, others }) =>
      loop.map(relative).join(' -> ') + (others.length > 0 ? ` (and through ${others.map(relative).join(', ')})` : ''),
  );
  assert.equal(
    circles,
    [],
    `import circles (move what the modules share into the module that owns it):\n  ${circles.join('\n  ')}`,
  );
});

test('nothing but tests imports from test/ (dev/, ci/, generator/, schema/, jobs/ stand on their own)', () => {
  const testDir = path.join(REPO_ROOT, 'test');
  const offending = [...importGraph(repositoryModules())]
    .filter(([file]) => !inside(testDir, file))
    .flatMap(([file, targets]) =>
      targets
        .filter((target) => inside(testDir, target))
        .map((target) => `${relative(file)} imports ${relative(target)}`),
    );
  assert.equal(offending, [], `move what they share out of test/:\n  ${offending.join('\n  ')}`);
});

test.run();
