/**
 * The peer of bronze: Apache Iceberg's own Kafka Connect sink (iceberg-kafka-connect 1.12.0 from
 * Maven Central) on Kafka 4.1.1's Connect runtime, one standalone worker, landing the bench topic in
 * an Iceberg table of a file-system warehouse (Hadoop catalog), on the same broker the stages read.
 *
 * Its configuration, chosen to give it a fair chance (printed by the bench with its figures):
 * - tasks.max = the topic's partitions, so each partition has its own task, as bronze reads all;
 * - the same record as bronze's row where Connect's built-in transforms allow: the value's bytes,
 *   topic, partition, offset and Kafka timestamp (ByteArrayConverter, HoistField, InsertField);
 *   the key is not kept, as no built-in transform copies it, so the peer writes a little less;
 * - a landing table created before it starts, as Iceberg's documentation advises, with Parquet and
 *   snappy as bronze writes (Iceberg's default would be zstd);
 * - offset.flush.interval.ms = 1 s, so an idle task answers a commit request within a second;
 * - a commit interval of `commitIntervalMs` (Iceberg's default is 5 minutes, made for a sink that
 *   runs for days): the time counted ends at the commit that makes all N rows visible, so a shorter
 *   interval only helps the peer, at the cost of more, smaller files;
 * - the JVM flags and heap of Kafka's own connect-standalone.sh (-Xms256M -Xmx2G, G1), not ours;
 * - it signs in as the broker's admin user, as Kafka's perf tools do in the bench.
 * Time runs from the worker's launch (JVM start and plugin loading included, as a stage's includes
 * Node's start) to the first snapshot whose total-records reaches N; peak RSS is the JVM's VmHWM.
 */
import { execFile, spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runKafkaTool } from '../broker/broker.ts';
import { javaClientConfigFile, javaClientProperties, javaPropertiesText, knownBroker } from '../broker/clients.ts';
import { freePort } from '../broker/net.ts';
import { ensureKafkaLibs } from '../broker/kafka-libs.ts';
import { lakehouseCache } from '../broker/paths.ts';
import { HadoopCatalog } from '../../jobs/lake/catalog/hadoop-catalog.ts';
import { currentSnapshot, newTableMetadata } from '../../jobs/lake/iceberg/metadata.ts';
import { fileUri, LocalFileIO } from '../../jobs/lake/io/local-file-io.ts';
import { bronzeColumns, type TableSpec } from '../../jobs/lake/table-schema.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const pom = path.join(here, 'connect', 'pom.xml');
const run = promisify(execFile);

export const ICEBERG_CONNECT_VERSION = '1.12.0';
/** connect-standalone.sh's defaults (KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS). */
const connectJvmFlags = [
  '-Xms256M',
  '-Xmx2G',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];

export interface PeerResult {
  readonly seconds: number;
  readonly eventsPerSec: number;
  readonly peakRssBytes: number;
  readonly rows: number;
  /** What a reader needs to judge the comparison, printed with the figures. */
  readonly configuration: string;
}

/** The plugin directory (one sub-directory of jars), fetched from Maven Central once into the tool cache. */
export async function ensureConnectPlugin(say: (m: string) => void): Promise<string> {
  const home = path.join(lakehouseCache(), `iceberg-kafka-connect-${ICEBERG_CONNECT_VERSION}`);
  const plugins = path.join(home, 'plugins');
  const marker = path.join(home, '.complete');
  if (existsSync(marker)) return plugins;
  mkdirSync(home, { recursive: true });
  const staging = mkdtempSync(path.join(home, 'plugins.partial-'));
  say(`fetching iceberg-kafka-connect ${ICEBERG_CONNECT_VERSION} and its dependencies from Maven Central`);
  try {
    await run(
      'mvn',
      [
        '-B',
        '-q',
        '-f',
        pom,
        `-Dmaven.repo.local=${path.join(lakehouseCache(), 'm2')}`,
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${path.join(staging, 'iceberg-sink')}`,
      ],
      { maxBuffer: 16 << 20 },
    );
    if (!existsSync(path.join(staging, 'iceberg-sink', `iceberg-kafka-connect-${ICEBERG_CONNECT_VERSION}.jar`)))
      throw new Error(`iceberg-kafka-connect-${ICEBERG_CONNECT_VERSION}.jar missing after the copy`);
    rmSync(plugins, { recursive: true, force: true });
    renameSync(staging, plugins);
    writeFileSync(marker, new Date().toISOString() + '\n');
    return plugins;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const stdout = (error as { stdout?: string }).stdout ?? '';
    throw new Error(`fetching the Kafka Connect sink failed: ${stdout.slice(-2000) || String(error)}`);
  }
}

function prefixed(prefix: string, entries: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).map(([key, value]) => [prefix + key, value]));
}

/**
 * The sink's landing table, created before the worker starts as Iceberg's sink documentation
 * advises: bronze's columns that Connect's transforms can fill. (Left to auto-create, the three tasks
 * race to create it and two wait out a lock retry of about 5 s.)
 */
const landingTable: TableSpec = {
  name: 'bench.peer',
  namespace: 'bench',
  table: 'peer',
  doc: "the Kafka Connect sink's copy of the bench topic",
  columns: bronzeColumns.filter((c) => c.name !== 'key' && c.name !== 'ingested_at'),
  partitionBy: [],
};

async function createLandingTable(warehouse: string): Promise<HadoopCatalog> {
  mkdirSync(warehouse, { recursive: true });
  const catalog = new HadoopCatalog(new LocalFileIO(), fileUri(warehouse));
  const location = catalog.locationOf(landingTable);
  await catalog.create(
    landingTable,
    newTableMetadata(landingTable, location, { 'write.parquet.compression-codec': 'snappy' }),
  );
  return catalog;
}

/** The current snapshot's summary as the sink committed it; undefined before its first commit. */
async function committedSummary(catalog: HadoopCatalog): Promise<Readonly<Record<string, string>> | undefined> {
  const table = await catalog.load(landingTable);
  return table && currentSnapshot(table.metadata)?.summary;
}

function peakRss(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface ConnectPeerOptions {
  readonly bootstrap: string;
  readonly topic: string;
  readonly partitions: number;
  readonly events: number;
  readonly commitIntervalMs: number;
  readonly say: (message: string) => void;
  /** Give up after this long without the N rows. */
  readonly timeoutMs?: number;
}

/** Runs the sink over `topic` until its table holds `events` rows; the table must then hold exactly that many. */
export async function kafkaConnectSinkPeer(options: ConnectPeerOptions): Promise<PeerResult> {
  const { bootstrap, topic, partitions, events, commitIntervalMs, say } = options;
  const access = knownBroker(bootstrap);
  if (!access) throw new Error(`the Kafka Connect peer needs a broker started by this process (${bootstrap})`);
  const plugins = await ensureConnectPlugin(say);
  const libs = await ensureKafkaLibs();
  const work = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-connect-peer-'));
  const warehouse = path.join(work, 'warehouse');
  const controlTopic = `control-${topic}`;
  const client = javaClientProperties(access, 'admin');
  const adminConfig = javaClientConfigFile(access, 'admin');
  await runKafkaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server',
    bootstrap,
    '--command-config',
    adminConfig,
    '--create',
    '--topic',
    controlTopic,
    '--partitions',
    '1',
  ]);
  const catalog = await createLandingTable(warehouse);
  const workerFile = path.join(work, 'worker.properties');
  const connectorFile = path.join(work, 'iceberg-sink.properties');
  writeFileSync(
    workerFile,
    javaPropertiesText({
      'bootstrap.servers': bootstrap,
      ...client,
      ...prefixed('consumer.', client),
      ...prefixed('producer.', client),
      ...prefixed('admin.', client),
      'key.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
      'value.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
      'offset.storage.file.filename': path.join(work, 'connect.offsets'),
      // A sink task whose partition is drained waits in poll() until the next offset flush (60 s by
      // default) and only then answers the coordinator's commit request; a second keeps it awake.
      'offset.flush.interval.ms': 1000,
      'plugin.path': plugins,
      'plugin.discovery': 'service_load',
      listeners: `http://127.0.0.1:${await freePort()}`,
    }),
    { mode: 0o600 },
  );
  const configuration = {
    name: 'iceberg-sink',
    'connector.class': 'org.apache.iceberg.connect.IcebergSinkConnector',
    'tasks.max': partitions,
    topics: topic,
    'iceberg.tables': 'bench.peer',
    'iceberg.catalog.type': 'hadoop',
    'iceberg.catalog.warehouse': `file://${warehouse}`,
    'iceberg.control.topic': controlTopic,
    'iceberg.control.commit.interval-ms': commitIntervalMs,
    transforms: 'hoist,metadata',
    'transforms.hoist.type': 'org.apache.kafka.connect.transforms.HoistField$Value',
    'transforms.hoist.field': 'value',
    'transforms.metadata.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
    'transforms.metadata.topic.field': 'topic',
    'transforms.metadata.partition.field': 'partition',
    'transforms.metadata.offset.field': 'offset',
    'transforms.metadata.timestamp.field': 'kafka_timestamp',
  };
  writeFileSync(
    connectorFile,
    javaPropertiesText({
      ...configuration,
      ...prefixed('iceberg.kafka.', { 'bootstrap.servers': bootstrap, ...client }),
    }),
    { mode: 0o600 },
  );
  const log = path.join(work, 'connect.log');
  const logStream = createWriteStream(log);
  const started = performance.now();
  const worker = spawn(
    'java',
    [
      ...connectJvmFlags,
      `-Dlog4j2.configurationFile=${path.join(here, 'connect', 'log4j2.properties')}`,
      '-cp',
      path.join(libs, '*'),
      'org.apache.kafka.connect.cli.ConnectStandalone',
      workerFile,
      connectorFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  worker.stdout.pipe(logStream);
  worker.stderr.pipe(logStream);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    worker.once('close', (code) => {
      exited = code;
      resolve();
    }),
  );
  const deadline = Date.now() + (options.timeoutMs ?? 1_800_000);
  let rows = 0;
  let summary: Readonly<Record<string, string>> | undefined;
  let measured = false;
  try {
    for (;;) {
      summary = await committedSummary(catalog);
      rows = Number(summary?.['total-records'] ?? 0);
      if (rows >= events) break;
      if (exited !== undefined)
        throw new Error(`the Connect worker exited (${exited}) with ${rows} of ${events} rows committed`);
      if (Date.now() > deadline) throw new Error(`the Connect sink committed ${rows} of ${events} rows in time`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const peakRssBytes = peakRss(worker.pid!);
    if (rows !== events) throw new Error(`the Connect sink's table holds ${rows} rows, not ${events}`);
    const dataFiles = summary?.['total-data-files'];
    measured = true;
    return {
      seconds,
      eventsPerSec: events / seconds,
      peakRssBytes,
      rows,
      configuration: `tasks.max=${partitions}, commit interval ${commitIntervalMs} ms, Parquet snappy, ${dataFiles} data files, connect-standalone.sh JVM flags (-Xmx2G, G1)`,
    };
  } catch (error) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-30).join('\n') : '';
    throw new Error(`${(error as Error).message}\nConnect worker log (${log}):\n${tail}`);
  } finally {
    if (exited === undefined) {
      worker.kill('SIGTERM');
      const killer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(killer);
    }
    logStream.end();
    if (measured && !process.env.LAKEHOUSE_BENCH_KEEP_PEER) rmSync(work, { recursive: true, force: true });
    else say(`  the Connect peer's worker directory and log are kept in ${work}`);
  }
}
