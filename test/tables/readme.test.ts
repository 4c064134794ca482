// docs/lake.md's "Querying the tables" runs as written: its shell block (spark-sql) and its Python
// block (PyIceberg) are taken from the page and run with LAKEHOUSE_DATA_DIR naming, relative to the
// current directory, a lake the Node engine wrote; their output is checked against the readers. Needs ci/spark/install.sh.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pyiceberg, type TableRead } from '../support/iceberg-readers.ts';
import { catalogConf, icebergRuntimeJar } from '../support/spark-iceberg.ts';
import { repoRoot, requireSparkInstall } from '../spark/spark-install.ts';
import { sharedNodeLake } from './node-lake.ts';

const run = promisify(execFile);
/** How a user runs the blocks: from some directory, with the lake's root (here relative) in the environment. */
const inWork = () => ({
  cwd: work,
  env: { ...process.env, LAKEHOUSE_DATA_DIR: 'lakes/this-one' },
  maxBuffer: 64 << 20,
});
const readme = readFileSync(path.join(repoRoot, 'docs/lake.md'), 'utf8');
const versions = readFileSync(path.join(repoRoot, 'ci/spark/versions.env'), 'utf8');
const pinned = (name: string) => new RegExp(`^${name}=(\\S+)$`, 'm').exec(versions)![1];

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `docs/lake.md has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

const querying = section('Querying the tables');
const blocks = (language: string) =>
  [...querying.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

let lake: string;
let work: string;
let silver: TableRead;
let gold: TableRead;
let silverAt: TableRead[];
let setupFailure: unknown;

test.before(async () => {
  try {
    ({ dir: lake } = await sharedNodeLake());
    work = mkdtempSync(path.join(tmpdir(), 'lakehouse-readme-'));
    mkdirSync(path.join(work, 'lakes'));
    symlinkSync(lake, path.join(work, 'lakes/this-one'));
    [silver, gold] = await pyiceberg(lake, [{ table: 'silver.vehicles' }, { table: 'gold.stats' }]);
    silverAt = await pyiceberg(
      lake,
      silver.snapshots.map((s) => ({ table: 'silver.vehicles', snapshotId: s.snapshotId })),
    );
  } catch (error) {
    setupFailure = error;
  }
});

test.after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the section has one shell block and one Python block, pinned to the versions the project installs', () => {
  assert.is(blocks('sh').length, 1);
  assert.is(blocks('python').length, 1);
  const [sh] = blocks('sh');
  const spark = pinned('SPARK_VERSION');
  const runtime = `iceberg-spark-runtime-${spark.split('.').slice(0, 2).join('.')}_${pinned('SCALA_BINARY')}`;
  assert.ok(
    querying.includes(`--packages org.apache.iceberg:${runtime}:${pinned('ICEBERG_VERSION')}`),
    'the --packages coordinate',
  );
  assert.ok(sh.includes(`/spark-${spark}"`), 'the install directory');
  assert.ok(
    sh.includes(`/jars/${path.basename(icebergRuntimeJar(requireSparkInstall()))}"`),
    'the jar ci/spark/install.sh fetches',
  );
  // The catalog settings the tests' Spark reader uses, but for the warehouse, taken from the environment.
  for (const setting of catalogConf('/lake').filter((a) => a !== '--conf' && !a.includes('.warehouse='))) {
    assert.ok(sh.includes(`--conf ${setting}`), setting);
  }
  assert.ok(
    sh.includes('--conf spark.sql.catalog.lakehouse.warehouse="file://$(realpath "$LAKEHOUSE_DATA_DIR")"'),
    'warehouse = the lake root',
  );
});

test("the spark-sql block prints gold and silver's snapshots, and leaves no metastore behind", async () => {
  if (setupFailure) throw setupFailure;
  const { stdout } = await run('bash', ['-e', '-c', blocks('sh')[0]], inWork());
  const lines = stdout.split('\n');
  assert.ok(gold.rows!.length > 0);
  for (const row of gold.rows!) {
    assert.ok(
      lines.some((l) => l.startsWith(`${row.type}\t${row.event_count}\t`)),
      `gold ${row.type} ${row.event_count} in:\n${stdout}`,
    );
  }
  for (const snapshot of silver.snapshots) {
    assert.ok(
      lines.some((l) => l.startsWith(`${snapshot.snapshotId}\t`)),
      `snapshot ${snapshot.snapshotId} in:\n${stdout}`,
    );
  }
  assert.not.ok(existsSync(path.join(work, 'metastore_db')), 'a Hive metastore was left in the current directory');
});

test("the PyIceberg block prints silver's rows now and at every snapshot, and gold", async () => {
  if (setupFailure) throw setupFailure;
  const python = path.join(requireSparkInstall(), 'venv/bin/python');
  const { stdout } = await run(python, ['-c', blocks('python')[0]], inWork());
  const pythonRepr = (rows: TableRead['rows']) =>
    `[${rows!.map((r) => `{'type': '${r.type}', 'event_count': ${r.event_count}}`).join(', ')}]`;
  const sortedGold = [...gold.rows!].sort((a, b) => (String(a.type) < String(b.type) ? -1 : 1));
  assert.equal(stdout.trimEnd().split('\n'), [
    `${silver.rows!.length} silver rows`,
    ...silver.snapshots.map((s, i) => `${s.snapshotId} ${s.timestampMs} ${silverAt[i].rows!.length}`),
    pythonRepr(sortedGold),
  ]);
});

test.run();
