// Every command of the shell blocks of README.md and docs/*.md runs as written on a fresh checkout
// (session.ts), or is exempt below with the reason. A command the documentation gains fails the
// first test until it is run here or exempted; one it loses fails it too.
//
// The commands run as a person following the documentation would, in one shell: the quick start's
// `npm run local` and the Spark engine's, each starting a broker of its own; the lake commands on
// the Spark run's lake; then a broker that `npm run broker -- start` keeps running, one job at a time
// on it, `status`, the continuous producer stopped by Ctrl-C, and the broker stopped; the object
// store started into the shell's variables, `npm run local` again with the lake in its catalog and
// the README's two Python queries of it (PyIceberg, DuckDB) run as written, its status, and stopped.
// A command the documentation shows twice is run twice, in the order of the steps here. About five
// minutes, two of them Spark's. docs/lake.md's query examples are test/tables/readme.test.ts's.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kafkaClasspath } from '../../dev/broker/kafka-libs.ts';
import { connectCatalog } from '../../dev/objectstore/catalog-client.ts';
import { seaweedfsBinary } from '../../dev/objectstore/installers.ts';
import { settingsFromEnv } from '../../dev/objectstore/settings.ts';
import { requireSparkInstall, sparkVersions } from '../../dev/spark/install.ts';
import { currentSnapshot } from '../../jobs/lake/iceberg/metadata.ts';
import { metadataOnDisk } from '../support/tables.ts';
import { repoRoot } from '../spark/spark-install.ts';
import { Session, tail, type ShellRun } from './session.ts';
import { docCommands } from './shell-commands.ts';

const exempt: readonly { readonly pattern: RegExp; readonly reason: string }[] = [
  { pattern: /^npm ci\b/, reason: 'installs the packages this test runs on (ci/tools/fresh-clone.sh runs it in CI)' },
  { pattern: /^npm test\b/, reason: 'the test suite this test is part of' },
  {
    pattern: /^npm run test:cluster\b/,
    reason: 'builds and runs a Kubernetes cluster of its own (ci/cluster/, 20+ min)',
  },
  {
    pattern: /^npm run lakehouse -- explore\b/,
    reason: 'serves until stopped: test/jobs/explorer.test.ts starts it and opens its page in headless Chromium',
  },
  { pattern: /^(helm|kubectl)\b/, reason: "needs a Kubernetes cluster: the cluster test's business (ci/cluster/)" },
  {
    pattern: /^npm run chart:publish\b/,
    reason:
      'needs a signing key and a registry: test/chart/release.test.ts packages and verifies, the cluster test pushes and installs',
  },
  { pattern: /^npm run bench -- --events 1000000\b/, reason: 'the benchmark at 10^6 events: minutes of both cores' },
  {
    pattern: /^npm run bench -- .*--peers\b/,
    reason: 'Kafka Connect, Spark and DuckDB beside the stages up to 10^7 events: many minutes',
  },
  { pattern: /^npm run bench -- .*--maintenance 30x1000\b/, reason: '30 pipeline runs in each of two lakes: minutes' },
  { pattern: /^npx tsx dev\/bench\/spark\.ts\b/, reason: 'both engines at 10^4 and 10^5 events: minutes of Spark' },
  {
    pattern: /^(spark=|source "\$spark\/venv\/bin\/activate"$|spark-sql )/,
    reason: 'the "Querying the tables" block: test/tables/readme.test.ts runs it as written and checks its output',
  },
];

interface Step {
  /** The command exactly as the documentation shows it. */
  readonly command: string;
  /** Values for the command's `<placeholders>`. */
  readonly fill?: () => Record<string, string>;
  /** Variables the documentation tells the reader to set for it (not kept). */
  readonly env?: () => Record<string, string>;
  readonly timeoutMs?: number;
  readonly interruptWhen?: (line: string) => boolean;
  readonly interruptAfterMs?: number;
  readonly check: (run: ShellRun) => void | Promise<void>;
}

let session: Session;
let setupFailure: unknown;
let sparkLake: string | undefined;
let startedCatalogUri: string | undefined;
const lakeOf = () => {
  if (!sparkLake) throw new Error('no lake: `npm run local -- --engine spark` did not run to its end');
  return sparkLake;
};
/** The lake commands are run as the README says: with LAKEHOUSE_DATA_DIR naming the lake, as `npm run local` names it. */
const onSparkLake = () => ({ LAKEHOUSE_DATA_DIR: path.relative(session.dir, lakeOf()) });

const jsonLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
/** What the command printed, without the lines npm prints first (`> lakehouse@0.1.0 lakehouse`, the script). */
const printed = (run: ShellRun) => run.stdout.replace(/^(\n|> [^\n]*\n)*/, '');

/** The last JSON line of the output (npm prints its own `> script` lines before the command's). */
function lastLine(run: ShellRun): Record<string, unknown> {
  const last = jsonLines(run.stdout).at(-1);
  if (!last) throw new Error(`no JSON line in the output\n${tail(run.stdout, run.stderr)}`);
  return last;
}
const result = (run: ShellRun) => lastLine(run).result as Record<string, unknown>;
const succeeded = (run: ShellRun) => assert.is(run.exitCode, 0, tail(run.stdout, run.stderr));
function finished(run: ShellRun): void {
  succeeded(run);
  const last = lastLine(run);
  assert.equal([last.msg, last.ok], ['finished', true], tail(run.stdout, run.stderr));
}

/** A local run: every stage finished (on `engine` where it says); the lake its last line names. */
function localRun(run: ShellRun, engine: 'node' | 'spark'): string {
  finished(run);
  const lines = jsonLines(run.stdout);
  for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify']) {
    const done = lines.find((line) => line.job === job && line.msg === 'finished');
    assert.ok(done, `${job} finished\n${tail(run.stdout, run.stderr)}`);
    const onSpark = engine === 'spark' && ['bronze', 'silver', 'gold'].includes(job);
    assert.is(done!.engine, onSpark ? 'spark' : undefined, `${job}'s engine`);
  }
  return String(lastLine(run).lake);
}
/** A local run on the volume: its lake is a new directory under ./data. */
function localRunOnVolume(run: ShellRun, engine: 'node' | 'spark'): string {
  const lake = localRun(run, engine);
  assert.is(path.dirname(lake), path.join(session.dir, 'data'));
  return lake;
}

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
/** The README's Python blocks (the queries of the catalog lake), and the interpreter it tells the reader to run them with. */
const readmePython = {
  blocks: [...readme.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]),
  interpreter: /`("\$\{LAKEHOUSE_CACHE[^`]*\/venv\/bin\/python")`/.exec(readme)?.[1],
};

/**
 * The README's PyIceberg and DuckDB queries of gold, run as written in the session's shell (its
 * variables name the catalog): both print gold's three vehicle types, the same counts, and the counts
 * add up to the rows silver accepted.
 */
async function queryGoldAsTheReadmeDoes(silverRows: number): Promise<void> {
  const { blocks, interpreter } = readmePython;
  assert.is(blocks.length, 2, "the README's Python blocks: PyIceberg's and DuckDB's");
  assert.ok(interpreter, 'the README names the Python to run them with');
  const printedBy = async (block: string, index: number) => {
    const file = `readme-query-${index}.py`;
    writeFileSync(path.join(session.dir, file), block);
    const run = await session.run(`${interpreter} ${file}`, { timeoutMs: 120_000 });
    succeeded(run);
    return run.stdout.trim();
  };
  const [pyiceberg, duckdb] = await Promise.all(blocks.map(printedBy));
  const fromPyIceberg = [...pyiceberg.matchAll(/\{'type': '(\w+)', 'event_count': (\d+)\}/g)].map((m) => [m[1], +m[2]]);
  const fromDuckDb = [...duckdb.matchAll(/\('(\w+)', (\d+), [\d.]+\)/g)].map((m) => [m[1], +m[2]]);
  assert.equal(
    fromPyIceberg.map(([type]) => type),
    ['bike', 'car', 'scooter'],
    `PyIceberg printed:\n${pyiceberg}`,
  );
  assert.equal(fromDuckDb, fromPyIceberg, `DuckDB printed:\n${duckdb}\nPyIceberg printed:\n${pyiceberg}`);
  assert.is(
    fromPyIceberg.reduce((sum, [, count]) => sum + Number(count), 0),
    silverRows,
  );
}

const table = (key: 'bronze' | 'silver' | 'gold') => {
  const metadata = metadataOnDisk(lakeOf(), key);
  if (!metadata) throw new Error(`${key} has no table in ${lakeOf()}`);
  return { metadata };
};

const steps: Step[] = [
  {
    command: 'bash ci/spark/install.sh',
    check: (run) => {
      succeeded(run);
      assert.is(run.stdout.trimEnd().split('\n').at(-1), path.join(session.cache, `spark-${sparkVersions().spark}`));
    },
  },
  { command: 'npm run local', timeoutMs: 300_000, check: (run) => void localRunOnVolume(run, 'node') },
  {
    command: 'npm run local -- --engine spark',
    timeoutMs: 600_000,
    check: (run) => {
      sparkLake = localRunOnVolume(run, 'spark');
    },
  },
  {
    command: 'npm run lakehouse -- tables',
    env: onSparkLake,
    check: (run) => {
      succeeded(run);
      for (const name of ['bronze.vehicles', 'silver.vehicles', 'silver.rejected', 'gold.stats'])
        assert.ok(run.stdout.includes(name), `${name} in:\n${run.stdout}`);
    },
  },
  {
    command: 'npm run lakehouse -- snapshots bronze.vehicles',
    env: onSparkLake,
    check: (run) => {
      succeeded(run);
      const id = String(currentSnapshot(table('bronze').metadata)!['snapshot-id']);
      assert.ok(run.stdout.includes(id), `bronze's snapshot ${id} in:\n${run.stdout}`);
    },
  },
  {
    command: 'npm run lakehouse -- show gold.stats',
    env: onSparkLake,
    check: (run) => {
      succeeded(run);
      const lines = printed(run).trimEnd().split('\n');
      assert.match(lines[0], /^gold\.stats at snapshot \d+ .*, 3 of 3 rows$/);
      assert.equal(
        lines.slice(3).map((line) => line.split(' ')[0]),
        ['bike', 'car', 'scooter'],
      );
    },
  },
  {
    command: 'npm run lakehouse -- show silver.vehicles --snapshot <id> --limit 5',
    env: onSparkLake,
    fill: () => ({ id: String(table('silver').metadata.snapshots![0]['snapshot-id']) }),
    check: (run) => {
      succeeded(run);
      const id = String(table('silver').metadata.snapshots![0]['snapshot-id']);
      assert.match(printed(run).split('\n')[0], new RegExp(`^silver\\.vehicles at snapshot ${id} .*, 5 of \\d+ rows$`));
    },
  },
  {
    command: 'npm run lakehouse -- show gold.stats --as-of <time>',
    env: onSparkLake,
    fill: () => ({ time: new Date(currentSnapshot(table('gold').metadata)!['timestamp-ms']).toISOString() }),
    check: (run) => {
      succeeded(run);
      const id = String(currentSnapshot(table('gold').metadata)!['snapshot-id']);
      assert.match(printed(run).split('\n')[0], new RegExp(`^gold\\.stats at snapshot ${id} `));
    },
  },
  { command: 'npm run lakehouse -- maintain', env: onSparkLake, check: finished },
  {
    command: 'export KAFKA_BOOTSTRAP_SERVER=$(npm run -s broker -- start | tail -n 1)',
    check: (run) => {
      succeeded(run);
      assert.match(session.env.KAFKA_BOOTSTRAP_SERVER ?? '', /^127\.0\.0\.1:\d+$/, tail(run.stdout, run.stderr));
    },
  },
  {
    command: 'export LAKEHOUSE_DATA_DIR=data/jobs',
    check: (run) => {
      succeeded(run);
      assert.is(session.env.LAKEHOUSE_DATA_DIR, 'data/jobs');
    },
  },
  { command: 'npm run lakehouse -- topics', check: finished },
  {
    command: 'npm run lakehouse -- produce --events 1000',
    check: (run) => {
      finished(run);
      assert.is(result(run).sent, 1000);
    },
  },
  {
    command: 'npm run lakehouse -- bronze',
    check: (run) => {
      finished(run);
      assert.is(result(run).recordsRead, 1000);
    },
  },
  { command: 'npm run lakehouse -- silver', check: finished },
  { command: 'npm run lakehouse -- gold', check: finished },
  { command: 'npm run lakehouse -- verify', check: finished },
  {
    command: 'npm run lakehouse -- status',
    check: (run) => {
      succeeded(run);
      assert.ok(run.stdout.includes('Bronze lag behind Kafka: 0 record(s)'), run.stdout);
    },
  },
  {
    command: 'npm run -s lakehouse -- status --json',
    check: (run) => {
      succeeded(run);
      // All of it, as a script reads it.
      const { kafka } = JSON.parse(run.stdout);
      assert.is(kafka.ok, true, run.stdout);
      assert.equal(
        kafka.partitions.map((p: { lag: number }) => p.lag),
        [0, 0, 0],
      );
    },
  },
  {
    command: 'npm run lakehouse -- produce --producer-mode continuous --events-per-second 200',
    // Ctrl-C two seconds after it starts streaming.
    interruptWhen: (line) => line.includes('"msg":"streaming"'),
    interruptAfterMs: 2_000,
    // npm reports its own interruption in its exit status (1 or 130), whatever the script did: the
    // job's last line says how it ended.
    check: (run) => {
      const last = lastLine(run);
      assert.equal([last.msg, last.ok], ['finished', true], tail(run.stdout, run.stderr));
      const { sent, acknowledged } = last.result as { sent: number; acknowledged: number };
      assert.is(last.signal, 'SIGINT');
      assert.ok(sent > 0 && acknowledged === sent, JSON.stringify(last));
    },
  },
  {
    command: 'npm run broker -- stop',
    check: (run) => {
      succeeded(run);
      assert.match(run.stdout, /broker stopped \(pid \d+\)/);
    },
  },
  {
    // Else `npm run local` below would take the stopped broker for the Kafka to use.
    command: 'unset KAFKA_BOOTSTRAP_SERVER LAKEHOUSE_DATA_DIR',
    check: (run) => {
      succeeded(run);
      assert.equal([session.env.KAFKA_BOOTSTRAP_SERVER, session.env.LAKEHOUSE_DATA_DIR], [undefined, undefined]);
    },
  },
  {
    command: 'eval "$(npm run -s objectstore -- start)"',
    check: async (run) => {
      succeeded(run);
      const settings = settingsFromEnv(session.env);
      assert.ok(settings, `no LAKEHOUSE_CATALOG_URI in the shell\n${tail(run.stdout, run.stderr)}`);
      assert.is(settings!.LAKEHOUSE_CATALOG_WAREHOUSE, 's3://lakehouse');
      startedCatalogUri = settings!.LAKEHOUSE_CATALOG_URI;
      assert.match(run.stderr, /objectstore started in [\d.]+ s/);
      const namespaces = await (await connectCatalog(settings!)).request('GET', 'namespaces');
      assert.is(namespaces.status, 200, `the catalog the shell's variables name: ${namespaces.text}`);
    },
  },
  {
    command: 'npm run local',
    timeoutMs: 300_000,
    check: async (run) => {
      const lake = localRun(run, 'node');
      assert.is(lake, `the Iceberg REST catalog at ${session.env.LAKEHOUSE_CATALOG_URI} (warehouse s3://lakehouse)`);
      const verified = jsonLines(run.stdout).find((line) => line.job === 'verify' && line.msg === 'finished');
      await queryGoldAsTheReadmeDoes(Number((verified!.result as { silver: number }).silver));
    },
  },
  {
    // docs/lake.md shows it again: it finds the store running and sets the same settings.
    command: 'eval "$(npm run -s objectstore -- start)"',
    check: (run) => {
      succeeded(run);
      assert.match(run.stderr, /objectstore already running \(pid \d+/);
      assert.is(settingsFromEnv(session.env)?.LAKEHOUSE_CATALOG_URI, startedCatalogUri);
    },
  },
  {
    command: 'npm run objectstore -- status',
    check: (run) => {
      succeeded(run);
      assert.match(run.stdout, /# objectstore running \(pid \d+/);
      assert.ok(run.stdout.includes(`export LAKEHOUSE_CATALOG_URI=${session.env.LAKEHOUSE_CATALOG_URI}\n`), run.stdout);
    },
  },
  {
    command: 'npm run objectstore -- stop',
    check: (run) => {
      succeeded(run);
      assert.match(run.stdout, /objectstore stopped \(pid \d+\)/);
    },
  },
];

test.before(async () => {
  try {
    requireSparkInstall();
    await kafkaClasspath();
    await seaweedfsBinary();
    session = new Session(repoRoot);
  } catch (error) {
    setupFailure = error;
  }
});

test.after(async () => {
  if (!session) return;
  // A broker the commands started and a failure left running.
  if (session.env.KAFKA_BOOTSTRAP_SERVER) await session.run('npm run -s broker -- stop', { timeoutMs: 60_000 });
  // The object store the commands started, if a failure left it running.
  if (session.env.LAKEHOUSE_CATALOG_URI) await session.run('npm run -s objectstore -- stop', { timeoutMs: 60_000 });
  session.remove();
});

test('every command of the documentation is run here or exempt with a reason, and none of these is gone from it', () => {
  const documented = docCommands(repoRoot);
  const unhandled = documented
    .filter(({ command }) => !steps.some((s) => s.command === command) && !exempt.some((e) => e.pattern.test(command)))
    .map(({ file, line, command }) => `${file}:${line}: ${command}`);
  const countIn = (commands: readonly { command: string }[], command: string) =>
    commands.filter((c) => c.command === command).length;
  const runTimes = [...new Set(steps.map((s) => s.command))]
    .filter((command) => countIn(documented, command) > 1 || countIn(steps, command) > 1)
    .filter((command) => countIn(documented, command) !== countIn(steps, command))
    .map((command) => `${command}: shown ${countIn(documented, command)} times, run ${countIn(steps, command)}`);
  assert.equal(runTimes, [], 'a command the documentation shows more than once is run as many times');
  assert.equal(
    unhandled,
    [],
    `run these in test/docs/commands.test.ts, or exempt them there with the reason:\n  ${unhandled.join('\n  ')}`,
  );
  const gone = [
    ...steps.filter((s) => !documented.some((d) => d.command === s.command)).map((s) => s.command),
    ...exempt.filter((e) => !documented.some((d) => e.pattern.test(d.command))).map((e) => String(e.pattern)),
  ];
  assert.equal(gone, [], `no longer in the documentation; remove them here:\n  ${gone.join('\n  ')}`);
});

for (const step of steps) {
  test(step.command, async () => {
    if (setupFailure) throw setupFailure;
    const values = step.fill?.() ?? {};
    const command = step.command.replace(/<(\w+)>/g, (placeholder, name: string) => {
      if (!(name in values)) throw new Error(`no value for ${placeholder}`);
      return values[name];
    });
    const run = await session.run(command, {
      env: step.env?.(),
      timeoutMs: step.timeoutMs ?? 180_000,
      interruptWhen: step.interruptWhen,
      interruptAfterMs: step.interruptAfterMs,
    });
    await step.check(run);
  });
}

test.run();
