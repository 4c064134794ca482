/**
 * The Spark engine's bronze (jobs/spark/bronze.py) as a peer in `npm run bench -- --peers`: run on
 * the same broker and topic as our bronze, into a fresh lake of its own and with a consumer group of
 * its own, timed and measured as our stages are, its table then checked for the row count.
 *
 * How Spark is configured here, and where from:
 * - dev/spark/run-stage.sh launches it (`npm run local -- --engine spark` does too): spark-submit in
 *   local mode, `local[2]` (one JVM: the driver, running tasks on 2 threads, as the chart's default
 *   of 2 executors of 1 core each), driver heap 2g (the chart: a 1g driver and two 1g executors;
 *   local mode has one heap for all), spark.sql.shuffle.partitions 8 (bronze does not shuffle), the
 *   UI off, Spark's log at warn. Both are set below, not inherited, so the figures say what ran.
 * - JVM options: the JVM's defaults, as the chart's Spark Jobs have them: SPARK_SUBMIT_OPTS (where
 *   the tests put C1 only, the serial collector and a class archive, test/support/spark-jvm.ts) is
 *   removed from the environment.
 * - Parquet: snappy, Iceberg's Spark writer (jobs/spark/lakehouse_session.py); the Kafka source
 *   reads one bounded batch, one Spark task per partition.
 * - The Spark jars (Kafka connector, Iceberg runtime) come from ci/spark/install.sh's install.
 *
 * Its consumer group is the Node stages' with `-spark-bronze` after it: the topics job grants the
 * pipeline user its group as a prefix (jobs/kafka/acls.ts), so this one needs no grant of its own.
 * Seconds are the wall time of the whole process tree, start-up included, as for our stages; peak
 * RSS is the tree's (the JVM, the Python driver and any Python workers), sampled (dev/peak-rss.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDataFile } from '../../jobs/lake/data-file-source.ts';
import { liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { lakeAt } from '../../jobs/lake/lake.ts';
import { requireSparkInstall } from '../spark/install.ts';
import { runSparkStage } from '../spark/run-stage.ts';
import type { PeerResult } from './connect-sink.ts';

export const SPARK_PEER_MASTER = 'local[2]';
export const SPARK_PEER_DRIVER_MEMORY = '2g';

export interface SparkBronzePeerOptions {
  readonly bootstrap: string;
  readonly topic: string;
  /** Records on the topic: the bronze table must hold exactly this many rows. */
  readonly events: number;
  /** The Node stages' environment: Kafka access, LAKEHOUSE_CONSUMER_GROUP and the rest. */
  readonly env: NodeJS.ProcessEnv;
}

/** Runs the Spark engine's bronze over `topic`; throws when it fails or its table does not hold `events` rows. */
export async function sparkBronzePeer(options: SparkBronzePeerOptions): Promise<Omit<PeerResult, 'configuration'>> {
  const { bootstrap, topic, events } = options;
  const group = options.env.LAKEHOUSE_CONSUMER_GROUP;
  if (!group) throw new Error('sparkBronzePeer: env has no LAKEHOUSE_CONSUMER_GROUP to derive its own group from');
  requireSparkInstall();
  const lake = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bench-spark-'));
  const { SPARK_SUBMIT_OPTS: _testOnly, ...inherited } = options.env;
  const env = {
    ...inherited,
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: topic,
    LAKEHOUSE_CONSUMER_GROUP: `${group}-spark-bronze`,
    LAKEHOUSE_CATALOG: 'volume',
    LAKEHOUSE_DATA_DIR: lake,
    LAKEHOUSE_SPARK_MASTER: SPARK_PEER_MASTER,
    LAKEHOUSE_SPARK_DRIVER_MEMORY: SPARK_PEER_DRIVER_MEMORY,
  };
  try {
    const output: string[] = [];
    const keep = (line: string) => void output.push(line);
    const run = await runSparkStage('bronze', env, [], keep, keep);
    if (run.exitCode !== 0) throw new Error(`spark bronze exited ${run.exitCode}:\n${output.slice(-40).join('\n')}`);
    const rows = await bronzeRows(lake);
    if (rows !== events)
      throw new Error(
        `spark bronze: its table bronze.vehicles holds ${rows} rows, not the ${events} events of topic ${topic}`,
      );
    return { seconds: run.seconds, eventsPerSec: events / run.seconds, peakRssBytes: run.peakRssBytes, rows };
  } finally {
    rmSync(lake, { recursive: true, force: true });
  }
}

/**
 * Rows of the current bronze snapshot, from the footers of the data files its manifests list, each
 * file opened as our silver opens bronze's (present, of its recorded size and row count, every page whole).
 */
async function bronzeRows(dataDir: string): Promise<number> {
  const table = await lakeAt(dataDir).find('bronze');
  if (!table) return 0;
  let rows = 0;
  for (const { file } of await liveFiles(table)) {
    const opened = await openDataFile(table.files, file);
    rows += Number(opened.metadata.num_rows);
  }
  return rows;
}
