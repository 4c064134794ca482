// JVM options for the Spark drivers a test run starts (spark-submit, spark-sql and PySpark's own
// gateway all read SPARK_SUBMIT_OPTS). A test's Spark driver handles a few thousand rows for a few
// seconds, so start-up is most of its cost: C1 alone and the serial collector use about a third less
// CPU on 2 cores than the defaults, and an AppCDS archive of the classes a session loads (written once
// per Spark install and JDK, like the broker's in dev/broker/class-data-sharing.ts) halves what is
// left of a driver's start. The chart's Spark Jobs keep the JVM's defaults.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';

const quickStart = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xlog:disable', '-Xlog:all=warning:stderr'];

// A session that loads what the stages load before their own code runs: SQL, a shuffle, Parquet.
const warmUp = `
import sys, tempfile
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
out = tempfile.mkdtemp()
spark.range(100).selectExpr("id % 3 as k", "cast(id as string) as v").groupBy("k").count().write.mode("overwrite").parquet(out)
assert spark.read.parquet(out).count() == 3
spark.stop()
`;

function javaBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'java');
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return undefined;
}

/** The archive's path for this JDK and this Spark install (a new install or JDK gets a new one). */
function archivePath(sparkHome: string): string | undefined {
  const java = javaBinary();
  if (!java || !existsSync(join(sparkHome, '.complete'))) return undefined;
  const { size, mtimeMs } = statSync(java);
  const stamp = readFileSync(join(sparkHome, '.complete'), 'utf8');
  const key = createHash('sha256').update(`${java}\0${size}\0${mtimeMs}\0${stamp}`).digest('hex').slice(0, 16);
  return join(sparkHome, 'cds', `${key}.jsa`);
}

/**
 * SPARK_SUBMIT_OPTS for the test run: the quick-start flags, and the class archive, written first
 * by one warm-up session when it is missing and `writeArchive` (about 35 s of CPU, once: the whole
 * suite pays it back many times over, a run of a few files may not). Without an archive the tests
 * still run, only slower; HotSpot ignores an archive that does not match.
 */
export function sparkTestJvmOptions(sparkHome: string, options: { writeArchive: boolean }): string {
  const archive = archivePath(sparkHome);
  if (archive && !existsSync(archive) && options.writeArchive) writeArchive(sparkHome, archive);
  const shared = archive && existsSync(archive) ? [`-XX:SharedArchiveFile=${archive}`] : [];
  return [...quickStart, ...shared].join(' ');
}

function writeArchive(sparkHome: string, archive: string): void {
  mkdirSync(join(archive, '..'), { recursive: true });
  const staging = `${archive}.${process.pid}.tmp`;
  const script = `${staging}.py`;
  writeFileSync(script, warmUp);
  try {
    const run = spawnSync(join(sparkHome, 'venv/bin/spark-submit'), [script], {
      env: {
        ...process.env,
        PYSPARK_PYTHON: join(sparkHome, 'venv/bin/python'),
        PYSPARK_DRIVER_PYTHON: join(sparkHome, 'venv/bin/python'),
        SPARK_LOCAL_IP: '127.0.0.1',
        SPARK_SUBMIT_OPTS: [...quickStart, `-XX:ArchiveClassesAtExit=${staging}`].join(' '),
      },
      stdio: 'ignore',
      timeout: 300_000,
    });
    if (run.status === 0 && existsSync(staging)) renameSync(staging, archive);
    else
      process.stderr.write(
        `spark class archive: the warm-up session failed (${run.status ?? run.signal}); Spark tests run without it\n`,
      );
  } finally {
    rmSync(staging, { force: true });
    rmSync(script, { force: true });
  }
}
