/**
 * Makes sure tools are in the tool cache (${LAKEHOUSE_CACHE:-~/.cache/lakehouse}), one line each:
 *
 *   tools: ct v3.14.0 … cached
 *   tools: pyspark 4.1.1 + iceberg 1.12.0 + pyiceberg 0.12.0 … installing (once per version, ~2 min) … done in 131 s
 *
 * and puts the cache's bin directory first on this process's PATH. Each tool's installer is the
 * script that owns its version and cache key; this asks it first with `--check` (prints the tool's
 * label; exit 0: installed, 3: would install, anything else: cannot, the reason on the last line of
 * stderr), so that a tool that cannot be installed stops the run before anything is installed.
 *
 *   tsx ci/tools/ensure.ts [TOOL...]     every tool the tests use, or those named
 */
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lakehouseCache } from '../../dev/broker/paths.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Installer {
  readonly script: string;
  readonly args: readonly string[];
  /** How long an install takes on a 2-core machine with empty caches. */
  readonly firstRun: string;
}

export const TOOLS = {
  node22: { script: 'ci/node22.sh', args: [], firstRun: '~10 s' },
  helm: { script: 'ci/tools/install.sh', args: ['helm'], firstRun: '~10 s' },
  helm3: { script: 'ci/tools/install.sh', args: ['helm3'], firstRun: '~4 min' },
  ct: { script: 'ci/tools/install.sh', args: ['ct'], firstRun: '~1 min' },
  linters: { script: 'ci/tools/install.sh', args: ['linters'], firstRun: '~10 s' },
  checkov: { script: 'ci/tools/install.sh', args: ['checkov'], firstRun: '~1 min' },
  'kube-score': { script: 'ci/tools/install.sh', args: ['kube-score'], firstRun: '~1 min' },
  promtool: { script: 'ci/tools/install.sh', args: ['promtool'], firstRun: '~8 min' },
  kafka: { script: 'dev/broker/fetch-kafka.sh', args: [], firstRun: '~15 s' },
  spark: { script: 'ci/spark/install.sh', args: [], firstRun: '~2 min' },
  objectstore: { script: 'dev/objectstore/install-seaweedfs.sh', args: [], firstRun: '~5 s' },
  'rest-catalog': { script: 'dev/objectstore/rest-catalog/install.sh', args: [], firstRun: '~20 s' },
  chromium: { script: 'ci/tools/install-chromium.sh', args: [], firstRun: '~1 min' },
} as const satisfies Record<string, Installer>;

export type ToolName = keyof typeof TOOLS;

/** What `npm test` needs besides Node 22 (which test/run.ts sees to first). */
export const TEST_TOOLS: readonly ToolName[] = [
  'helm',
  'helm3',
  'ct',
  'linters',
  'checkov',
  'kube-score',
  'promtool',
  'kafka',
  'spark',
  'objectstore',
  'rest-catalog',
  'chromium',
];

/** The installers' last line of stderr, without the "fetch-kafka: " they start it with. */
const lastLine = (text: string): string => (text.trim().split('\n').at(-1) ?? '').trim().replace(/^[\w.-]+: /, '');

type Check = { name: ToolName; label: string } & (
  | { state: 'installed' | 'missing' }
  | { state: 'impossible'; why: string }
);

function check(name: ToolName): Promise<Check> {
  const { script, args } = TOOLS[name];
  return new Promise((resolve) => {
    execFile('bash', [path.join(root, script), '--check', ...args], (error, stdout, stderr) => {
      const label = stdout.trim().split('\n').at(-1) || name;
      const code = error ? error.code : 0;
      if (code === 0) resolve({ name, label, state: 'installed' });
      else if (code === 3) resolve({ name, label, state: 'missing' });
      else
        resolve({ name, label, state: 'impossible', why: lastLine(stderr) || `${script} --check: ${error?.message}` });
    });
  });
}

/** Runs the installer under the cache's lock (two test runs may start on a fresh machine at once), its output in a log. */
function install(name: ToolName, log: string): Promise<{ ok: boolean; why: string }> {
  const { script, args } = TOOLS[name];
  const cache = lakehouseCache();
  return new Promise((resolve) => {
    const logFile = createWriteStream(log);
    let stderr = '';
    const child = spawn('flock', [path.join(cache, '.install.lock'), 'bash', path.join(root, script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(logFile, { end: false });
    child.stderr.on('data', (chunk: Buffer) => {
      logFile.write(chunk);
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    let settled = false;
    const settle = (ok: boolean, why: string) => {
      if (settled) return;
      settled = true;
      logFile.end(() => resolve({ ok, why }));
    };
    child.on('error', (error) => settle(false, error.message));
    child.on('close', (code, signal) => settle(code === 0, lastLine(stderr) || `exit ${code ?? signal}`));
  });
}

/** Installs what is missing among `names`; false (after one line saying why) when a tool cannot be. */
export async function ensureTools(
  names: readonly ToolName[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<boolean> {
  const checks = await Promise.all(names.map(check));
  const reasons = checks.flatMap((c) =>
    c.state === 'impossible' ? [`${c.label} … cannot be installed: ${c.why}`] : [],
  );
  if (reasons.length > 0) {
    out.write(`tools: ${reasons.join('; ')}\n`);
    return false;
  }
  const cache = lakehouseCache();
  for (const { name, label, state } of checks) {
    if (state === 'installed') {
      out.write(`tools: ${label} … cached\n`);
      continue;
    }
    out.write(`tools: ${label} … installing (once per version, ${TOOLS[name].firstRun}) … `);
    mkdirSync(path.join(cache, 'logs'), { recursive: true });
    const log = path.join(cache, 'logs', `${name}.log`);
    const started = Date.now();
    const { ok, why } = await install(name, log);
    if (!ok) {
      out.write(`failed: ${why} (log: ${log})\n`);
      return false;
    }
    out.write(`done in ${Math.round((Date.now() - started) / 1000)} s\n`);
  }
  const bin = path.join(cache, 'bin');
  if (!process.env.PATH?.split(path.delimiter).includes(bin)) {
    process.env.PATH = `${bin}${path.delimiter}${process.env.PATH ?? ''}`;
  }
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !(name in TOOLS));
  if (unknown.length > 0) {
    process.stderr.write(`ensure: unknown tool ${unknown.join(', ')} (known: ${Object.keys(TOOLS).join(', ')})\n`);
    process.exit(2);
  }
  process.exit((await ensureTools(names.length > 0 ? (names as ToolName[]) : TEST_TOOLS)) ? 0 : 1);
}
