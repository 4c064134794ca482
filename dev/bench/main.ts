/**
 * `npm run bench -- --events N[,N…] [--backends volume,catalog] [--incremental N[,N…]] [--increment 10000] [--maintenance RUNSxEVENTS] [--out FILE] [--skip-baselines] [--peers [--peer-commit-ms 2000]] [--node-options='…'] [--kafka-security sasl_ssl|plaintext]`
 *
 * On a real local broker: Kafka's own producer and consumer perf tools (the rate this machine
 * allows) and then produce, bronze, silver, gold and verify exactly as the chart runs them (the
 * bundled lakehouse.mjs on plain node, one process per stage), each measured for wall seconds,
 * events per second and the peak resident memory the process reports. `--incremental` adds, on
 * lakes already holding N events, a run that adds `--increment` events (after them, and late: in
 * the middle of their time range); `--events 0` runs only that. `--maintenance 30x1000` counts each
 * table's files after 30 pipeline runs of 1000 events, without and with `maintain` after every run.
 * `--backends volume,catalog` runs the stages on each lake backend in turn (the catalog: SeaweedFS's
 * Iceberg REST catalog on its S3, started for the run, a table bucket per N) and prints each
 * stage's time on the catalog over its time on the volume. `--peers` adds, on the volume lake of
 * each N, the peers of bronze on the same broker and topic (Apache Iceberg's Kafka Connect sink,
 * connect-sink.ts; the Spark engine's bronze, spark-bronze.ts) and silver's baseline (a DuckDB query
 * doing silver's work over bronze's files, silver-baseline.ts), each checked for the same row
 * counts, then prints each peer beside our stage and the goal lines of issue 24.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../../jobs/config.ts';
import { generateRecords } from '../../jobs/events/generate.ts';
import { runJobProcess } from '../job-process.ts';
import { jobRuntimeEnv } from '../../generator/job-pod.ts';
import { formatTable } from '../../jobs/table-format.ts';
import { startBroker } from '../broker/broker.ts';
import { bundleJobs } from '../../generator/bundle-jobs.ts';
import { defaultValues } from '../../schema/index.ts';
import { consumerPerf, producerPerf, type Baseline } from './baselines.ts';
import { benchIncremental, type IncrementalResult } from './incremental.ts';
import { benchMaintenance, type MaintenanceResult } from './maintenance.ts';
import { createTableBucket } from '../objectstore/s3.ts';
import { ICEBERG_CONNECT_VERSION, kafkaConnectSinkPeer } from './connect-sink.ts';
import { duckdbSilverBaseline } from './silver-baseline.ts';
import { SPARK_PEER_DRIVER_MEMORY, SPARK_PEER_MASTER, sparkBronzePeer } from './spark-bronze.ts';
import { objectStoreSettings, startObjectStore } from '../objectstore/seaweedfs.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const stages = ['produce', 'bronze', 'silver', 'gold', 'verify'] as const;

interface StageResult {
  readonly seconds: number;
  readonly eventsPerSec: number;
  readonly peakRssBytes: number;
}

interface PeerRow {
  /** Which of our stages it is set beside. */
  readonly stage: 'bronze' | 'silver';
  readonly peer: string;
  readonly seconds: number;
  readonly eventsPerSec: number;
  readonly peakRssBytes: number;
  readonly configuration: string;
}

interface BenchResult {
  readonly backend: Backend;
  readonly nodeOptions: string;
  readonly machine: Record<string, unknown>;
  readonly events: number;
  readonly recordBytes: number;
  readonly baselines: { producerPerf?: Baseline; consumerPerf?: Baseline };
  readonly stages: Record<string, StageResult>;
  readonly peers: readonly PeerRow[];
}

function say(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function averageRecordBytes(): number {
  let bytes = 0;
  let count = 0;
  for (const r of generateRecords(1000, { seed: 42, invalidRatio: 0.05, duplicateRatio: 0 })) {
    bytes += Buffer.byteLength(r.value) + Buffer.byteLength(r.key);
    count++;
  }
  return Math.round(bytes / count);
}

type Backend = 'volume' | 'catalog';

async function benchOnce(
  events: number,
  bootstrap: string,
  bundle: string,
  withBaselines: boolean,
  nodeOptions: string,
  backend: Backend = 'volume',
  catalog: Record<string, string> = {},
  peers?: PeerOptions,
): Promise<BenchResult> {
  const run = `${events}-${Date.now()}`;
  const recordBytes = averageRecordBytes();
  const baselines: BenchResult['baselines'] = {};
  if (withBaselines) {
    say(`baseline: kafka-producer-perf-test, ${events} records of ${recordBytes} bytes`);
    baselines.producerPerf = await producerPerf(bootstrap, `perf-${run}`, events, recordBytes);
    say(`  ${Math.round(baselines.producerPerf.eventsPerSec)} records/s`);
    say('baseline: kafka-consumer-perf-test');
    baselines.consumerPerf = await consumerPerf(bootstrap, `perf-${run}`, events);
    say(`  ${Math.round(baselines.consumerPerf.eventsPerSec)} records/s`);
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bench-'));
  const env = {
    ...process.env,
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: `bench-${run}`,
    LAKEHOUSE_CONSUMER_GROUP: `bench-${run}`,
    LAKEHOUSE_DATA_DIR: dataDir,
    LAKEHOUSE_EVENTS: String(events),
    ...jobRuntimeEnv(nodeOptions),
    ...catalog,
  };
  const results: Record<string, StageResult> = {};
  const peerRows: PeerRow[] = [];
  try {
    const topics = await runJobProcess('topics', [], env, () => {}, { entry: bundle });
    if (topics.exitCode !== 0) throw new Error('topics failed');
    for (const stage of stages) {
      say(`${stage}: ${events} events (${backend})`);
      const started = performance.now();
      const outcome = await runJobProcess(
        stage,
        [],
        env,
        (line) => {
          if (line.includes('"progress"') || line.includes('"level":"error"')) say(`  ${line}`);
        },
        { entry: bundle },
      );
      const seconds = (performance.now() - started) / 1000;
      if (outcome.exitCode !== 0) throw new Error(`${stage} failed with exit code ${outcome.exitCode}`);
      results[stage] = { seconds, eventsPerSec: events / seconds, peakRssBytes: outcome.peakRssBytes };
      say(
        `  ${seconds.toFixed(2)} s, ${Math.round(events / seconds)} events/s, peak RSS ${(outcome.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      );
    }
    if (peers) peerRows.push(...(await runPeers(events, env, dataDir, peers)));
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return {
    backend,
    nodeOptions,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryBytes: os.totalmem(),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    events,
    recordBytes,
    baselines,
    stages: results,
    peers: peerRows,
  };
}

interface PeerOptions {
  readonly partitions: number;
  readonly commitIntervalMs: number;
}

/** The peers of bronze, each on the topic our stages just read into its own table; silver's baseline on our bronze. */
async function runPeers(
  events: number,
  env: NodeJS.ProcessEnv,
  dataDir: string,
  options: PeerOptions,
): Promise<PeerRow[]> {
  const rows: PeerRow[] = [];
  const report = (row: PeerRow) => {
    rows.push(row);
    say(
      `  ${row.seconds.toFixed(2)} s, ${Math.round(row.eventsPerSec)} events/s, peak RSS ${(row.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  };
  const bootstrap = env.KAFKA_BOOTSTRAP_SERVER!;
  const topic = env.LAKEHOUSE_TOPIC!;
  say(`peer: Iceberg's Kafka Connect sink ${ICEBERG_CONNECT_VERSION}, ${events} events`);
  const sink = await kafkaConnectSinkPeer({ bootstrap, topic, events, say, ...options });
  report({ stage: 'bronze', peer: `iceberg-kafka-connect ${ICEBERG_CONNECT_VERSION}`, ...sink });
  say(`peer: the Spark engine's bronze (${SPARK_PEER_MASTER}), ${events} events`);
  const spark = await sparkBronzePeer({ bootstrap, topic, events, env });
  report({
    stage: 'bronze',
    peer: 'spark bronze',
    ...spark,
    configuration: `master ${SPARK_PEER_MASTER}, driver memory ${SPARK_PEER_DRIVER_MEMORY}, JVM defaults; peak RSS of its process tree (JVM + Python), sampled`,
  });
  say(`baseline: DuckDB silver over bronze's files, ${events} events`);
  const duckdb = await duckdbSilverBaseline(dataDir, say);
  report({
    stage: 'silver',
    peer: 'duckdb silver baseline',
    ...duckdb,
    configuration: `DuckDB defaults (threads = cores): the same rules, de-duplication, snappy Parquet; counts equal silver's (${duckdb.validRows} valid, ${duckdb.rejectedRows} rejected)`,
  });
  return rows;
}

/** The issue's goal lines, each with the figure of this run and whether it is met. */
function printGoals(results: readonly BenchResult[]): void {
  const volume = results.filter((r) => r.backend === 'volume').sort((a, b) => a.events - b.events);
  const lines: { goal: string; events: number | string; figure: string; met: string }[] = [];
  const line = (goal: string, events: number | string, value: number, target: number, above = true) =>
    lines.push({
      goal,
      events,
      figure: value.toFixed(2),
      met: Number.isNaN(value) ? '-' : (above ? value >= target : value <= target) ? 'yes' : 'no',
    });
  for (const r of volume) {
    const sink = r.peers.find((p) => p.peer.startsWith('iceberg-kafka-connect'));
    if (sink) line('bronze / Kafka Connect sink >= 1.0', r.events, r.stages.bronze.eventsPerSec / sink.eventsPerSec, 1);
    for (const [stage, tool, baseline, target] of [
      ['bronze', 'consumer-perf-test', r.baselines.consumerPerf, 0.5],
      ['produce', 'producer-perf-test', r.baselines.producerPerf, 0.8],
    ] as const)
      if (baseline)
        line(`${stage} / ${tool} >= ${target}`, r.events, r.stages[stage].eventsPerSec / baseline.eventsPerSec, target);
    const duckdb = r.peers.find((p) => p.stage === 'silver');
    if (duckdb)
      line('silver / DuckDB baseline >= 0.5', r.events, r.stages.silver.eventsPerSec / duckdb.eventsPerSec, 0.5);
  }
  const [first, last] = [volume[0], volume.at(-1)];
  if (first && last)
    for (const stage of Object.keys(last.stages)) {
      const peak = Math.max(...volume.map((r) => r.stages[stage]?.peakRssBytes ?? 0)) / 2 ** 20;
      line(`${stage} peak RSS MiB <= 256`, 'all', peak, 256, false);
      if (last !== first)
        line(
          `${stage} peak RSS growth <= 20 %`,
          `${first.events}->${last.events}`,
          (100 * (last.stages[stage].peakRssBytes - first.stages[stage].peakRssBytes)) /
            first.stages[stage].peakRssBytes,
          20,
          false,
        );
    }
  if (lines.length > 0) process.stdout.write('\nGoals (issue 24)\n' + formatTable(lines) + '\n');
}

/** Each peer beside our stage: our events/s over the peer's, and both peaks. */
function printPeers(results: readonly BenchResult[]): void {
  const rows = results.flatMap((r) =>
    r.peers.map((p) => ({
      events: r.events,
      stage: p.stage,
      peer: p.peer,
      peer_s: p.seconds.toFixed(2),
      peer_per_sec: Math.round(p.eventsPerSec),
      peer_rss_mib: (p.peakRssBytes / 2 ** 20).toFixed(0),
      ours_per_sec: Math.round(r.stages[p.stage].eventsPerSec),
      ours_rss_mib: (r.stages[p.stage].peakRssBytes / 2 ** 20).toFixed(0),
      ours_over_peer: (r.stages[p.stage].eventsPerSec / p.eventsPerSec).toFixed(2),
    })),
  );
  if (rows.length === 0) return;
  process.stdout.write('\nPeers on the same broker and topic\n' + formatTable(rows) + '\n');
  const configurations = new Map(results.flatMap((r) => r.peers.map((p) => [p.peer, p.configuration] as const)));
  for (const [peer, configuration] of configurations) process.stdout.write(`  ${peer}: ${configuration}\n`);
}

function printTable(results: readonly BenchResult[]): void {
  const rows = results.flatMap((r) =>
    Object.entries(r.stages).map(([stage, s]) => {
      const baseline =
        stage === 'produce' ? r.baselines.producerPerf : stage === 'bronze' ? r.baselines.consumerPerf : undefined;
      return {
        events: r.events,
        backend: r.backend,
        stage,
        seconds: s.seconds.toFixed(2),
        events_per_sec: Math.round(s.eventsPerSec),
        peak_rss_mib: (s.peakRssBytes / 2 ** 20).toFixed(0),
        baseline_per_sec: baseline ? Math.round(baseline.eventsPerSec) : '-',
        ratio: baseline ? (s.eventsPerSec / baseline.eventsPerSec).toFixed(2) : '-',
      };
    }),
  );
  process.stdout.write(formatTable(rows) + '\n');
}

/** Per N and stage, the catalog backend's time over the volume's. */
function printBackendRatios(results: readonly BenchResult[]): void {
  const rows = results
    .filter((r) => r.backend === 'catalog')
    .flatMap((catalog) => {
      const volume = results.find((r) => r.backend === 'volume' && r.events === catalog.events);
      if (!volume) return [];
      return Object.entries(catalog.stages).map(([stage, s]) => ({
        events: catalog.events,
        stage,
        volume_s: volume.stages[stage].seconds.toFixed(2),
        catalog_s: s.seconds.toFixed(2),
        catalog_over_volume: (s.seconds / volume.stages[stage].seconds).toFixed(2),
      }));
    });
  if (rows.length > 0) process.stdout.write('\nCatalog backend over volume backend\n' + formatTable(rows) + '\n');
}

function printIncremental(results: readonly IncrementalResult[]): void {
  const rows = results.map((r) => ({
    lake_holds: r.base,
    run_adds: r.increment,
    events: r.late ? 'late' : 'after',
    ...Object.fromEntries(
      Object.entries(r.stages).flatMap(([stage, s]) => [
        [`${stage}_s`, s.seconds.toFixed(2)],
        [`${stage}_mib`, (s.peakRssBytes / 2 ** 20).toFixed(0)],
      ]),
    ),
  }));
  process.stdout.write('\nIncremental runs\n' + formatTable(rows) + '\n');
}

function printMaintenance(result: MaintenanceResult): void {
  const rows = result.tables.map((t) => ({
    maintain: t.lake,
    table: t.table,
    live_data_files: t.liveFiles,
    files_on_disk: t.filesOnDisk,
    snapshots: t.snapshots,
    rows: t.rows,
  }));
  process.stdout.write(
    `\nFiles after ${result.runs} pipeline runs of ${result.events} events (maintain keeps ${result.keepSnapshots} snapshots; ${result.maintainSeconds.toFixed(1)} s of maintain in all)\n` +
      formatTable(rows) +
      '\n',
  );
}

async function main(): Promise<void> {
  const { flags } = parseArgs(process.argv.slice(2));
  const list = (flag: string, fallback: string) =>
    (flags.get(flag) ?? fallback).split(',').map((n) => Number(n.replace(/_/g, '')));
  const counts = list('events', '100000').filter((n) => n !== 0);
  if (counts.some((n) => !Number.isInteger(n) || n < 0))
    throw new Error(`--events: "${flags.get('events')}" is not a list of positive integers`);
  const bases = flags.has('incremental') ? list('incremental', '0') : [];
  const increment = Number(flags.get('increment') ?? '10000');
  if (bases.some((n) => !Number.isInteger(n) || n < 0) || !Number.isInteger(increment) || increment <= 0) {
    throw new Error('--incremental: a list of event counts (0 allowed); --increment: a positive number of events');
  }
  const maintenance = flags.get('maintenance');
  const maintenancePlan = maintenance === undefined ? undefined : /^(\d+)x(\d+)$/.exec(maintenance);
  if (maintenance !== undefined && !maintenancePlan)
    throw new Error(`--maintenance: "${maintenance}" is not RUNSxEVENTS, e.g. 30x1000`);
  const backends = (flags.get('backends') ?? 'volume').split(',') as Backend[];
  if (backends.some((b) => b !== 'volume' && b !== 'catalog'))
    throw new Error(`--backends: "${flags.get('backends')}" is not a list of volume and catalog`);
  const out = flags.get('out');
  const withBaselines = flags.get('skip-baselines') !== 'true';
  const commitIntervalMs = Number(flags.get('peer-commit-ms') ?? '2000');
  if (!Number.isInteger(commitIntervalMs) || commitIntervalMs <= 0)
    throw new Error(`--peer-commit-ms: "${flags.get('peer-commit-ms')}" is not a positive number of milliseconds`);
  if (flags.get('peers') === 'true' && !backends.includes('volume'))
    throw new Error('--peers: the peers run beside the volume backend; add volume to --backends');
  const peers: PeerOptions | undefined =
    flags.get('peers') === 'true' ? { partitions: defaultValues().topic.partitions, commitIntervalMs } : undefined;
  // The jobs run with the NODE_OPTIONS the chart gives them (values: jobs.nodeOptions).
  const nodeOptions = flags.get('node-options') ?? defaultValues().jobs.nodeOptions;
  // `--node-options --max-old-space-size=…` reads as a flag without a value, then another flag.
  if (nodeOptions === 'true')
    throw new Error("--node-options needs its value after '=': --node-options='--max-old-space-size=192 …'");
  say(
    `stages run with ${Object.entries(jobRuntimeEnv(nodeOptions))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );

  const bundlePath = path.join(os.tmpdir(), `lakehouse-bench-${process.pid}.mjs`);
  fs.writeFileSync(bundlePath, await bundleJobs());
  say(`bundled jobs into ${bundlePath}`);
  // TLS and SCRAM as the chart's Kafka has them; plaintext measures what they cost.
  const security = flags.get('kafka-security') ?? 'sasl_ssl';
  if (security !== 'sasl_ssl' && security !== 'plaintext')
    throw new Error(`--kafka-security: "${security}" is not sasl_ssl or plaintext`);
  say(`starting a local Kafka broker (${security})`);
  const broker = await startBroker({ maxHeap: '1g', security });
  say(`broker at ${broker.bootstrap}`);
  const results: BenchResult[] = [];
  const incremental: IncrementalResult[] = [];
  let maintained: MaintenanceResult | undefined;
  const store = backends.includes('catalog') ? await startObjectStore() : undefined;
  if (store) say(`object store and REST catalog at ${objectStoreSettings(store).LAKEHOUSE_CATALOG_URI}`);
  try {
    for (const events of counts) {
      for (const [i, backend] of backends.entries()) {
        const catalog: Record<string, string> = {};
        if (backend === 'catalog' && store) {
          const settings = objectStoreSettings(store);
          const bucket = `bench-${events}-${Date.now()}`;
          await createTableBucket(settings, bucket);
          Object.assign(catalog, settings, { LAKEHOUSE_CATALOG_WAREHOUSE: `s3://${bucket}` });
        }
        results.push(
          await benchOnce(
            events,
            broker.bootstrap,
            bundlePath,
            withBaselines && i === 0,
            nodeOptions,
            backend,
            catalog,
            backend === 'volume' ? peers : undefined,
          ),
        );
      }
    }
    for (const base of bases)
      incremental.push(...(await benchIncremental(base, increment, broker.bootstrap, bundlePath, nodeOptions, say)));
    if (maintenancePlan)
      maintained = await benchMaintenance(
        Number(maintenancePlan[1]),
        Number(maintenancePlan[2]),
        broker.bootstrap,
        bundlePath,
        nodeOptions,
        say,
      );
  } finally {
    await store?.stop();
    await broker.stop();
    fs.rmSync(bundlePath, { force: true });
  }
  if (results.length > 0) printTable(results);
  printPeers(results);
  printGoals(results);
  printBackendRatios(results);
  if (incremental.length > 0) printIncremental(incremental);
  if (maintained) printMaintenance(maintained);
  if (out) {
    const all =
      incremental.length > 0 || maintained
        ? { runs: results, incremental, maintenance: maintained }
        : results.length === 1
          ? results[0]
          : results;
    fs.writeFileSync(path.resolve(root, out), JSON.stringify(all, null, 2) + '\n');
    say(`results written to ${out}`);
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
