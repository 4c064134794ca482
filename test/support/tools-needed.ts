/**
 * Which cached tools (ci/tools/ensure.ts) the test files that uvu would select need, so that
 * `npm test -- PATTERN` installs only what those files use. A file needs a tool when it, or a module
 * under test/ that it imports (directly or not), calls one of the helpers that use the tool.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TEST_TOOLS, type ToolName } from '../../ci/tools/ensure.ts';

// Calls, not the helpers' own definitions (`function toolPath(`).
const needs: readonly [RegExp, readonly ToolName[]][] = [
  [/(?<!function\s+)\b(toolPath|helms)\(/, ['helm', 'helm3']],
  [/\btoolPath\(["']ct["']\)/, ['ct', 'linters']],
  [/\btoolPath\(["']promtool["']\)/, ['promtool']],
  [/(?<!function\s+)\bscanRenderings\(/, ['checkov', 'kube-score']],
  [/(?<!function\s+)\b(sharedBroker|startBroker|ensureKafkaLibs|kafkaClasspath|runKafkaTool)\(/, ['kafka']],
  [/(?<!function\s+)\brequireSparkInstall\(/, ['spark']],
  [/(?<!function\s+)\b(sharedObjectStore|startObjectStore|seaweedfsBinary)\(/, ['objectstore']],
  [/(?<!function\s+)\b(restCatalogServer|startRestCatalog|restCatalogHome)\(/, ['rest-catalog']],
  [/(?<!function\s+)\bchromiumPath\(/, ['chromium']],
];

// Relative imports that run code: `import … from './x.ts'`, `import './x.ts'`, `import('./x.ts')`; not `import type`.
const relativeImport =
  /\bimport\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"](\.\.?\/[^'"]+)['"]|\bimport\(\s*['"](\.\.?\/[^'"]+)['"]\s*\)/g;

/** `pattern` and `ignore` as uvu applies them: case-insensitive, to paths relative to `testDir`. */
export function toolsNeeded(testDir: string, pattern: string, ignore: string): ToolName[] {
  const selected = new RegExp(pattern, 'i');
  const ignored = [/^.git/i, /node_modules/i, new RegExp(ignore, 'i')];
  const tools = new Set<ToolName>();
  const read = new Set<string>();
  const scan = (file: string): void => {
    if (read.has(file) || path.relative(testDir, file).startsWith('..') || !existsSync(file)) return;
    read.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [call, names] of needs) if (call.test(source)) for (const tool of names) tools.add(tool);
    for (const match of source.matchAll(relativeImport)) scan(path.resolve(path.dirname(file), match[1] ?? match[2]));
  };
  const visit = (dir: string, relative: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const name = path.join(relative, entry.name);
      if (ignored.some((re) => re.test(name))) continue;
      if (entry.isDirectory()) visit(path.join(dir, entry.name), name);
      else if (selected.test(name)) scan(path.join(dir, entry.name));
    }
  };
  visit(testDir, '');
  return TEST_TOOLS.filter((tool) => tools.has(tool));
}
