/**
 * Spark with Iceberg's runtime and the lake as a Hadoop catalog named `lakehouse` (warehouse = the
 * lake root), as ci/spark/install.sh installs it: the command lines the tests' Spark reader and
 * fixtures run. Spark's own catalog is kept in memory, so no Hive metastore is left behind.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { runCommand, type JobRun } from '../spark/run-job.ts';
import { repoRoot, requireSparkInstall } from '../spark/spark-install.ts';

/** The catalog settings, exactly those the README's "Querying the tables" gives. */
export function catalogConf(lakeRoot: string): string[] {
  return [
    'spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
    'spark.sql.catalog.lakehouse=org.apache.iceberg.spark.SparkCatalog',
    'spark.sql.catalog.lakehouse.type=hadoop',
    `spark.sql.catalog.lakehouse.warehouse=file:${path.resolve(lakeRoot)}`,
  ].flatMap((setting) => ['--conf', setting]);
}

/** The Iceberg Spark runtime jar ci/spark/install.sh fetched. */
export function icebergRuntimeJar(home: string): string {
  const jars = readdirSync(path.join(home, 'jars')).filter((f) => /^iceberg-spark-runtime-.*\.jar$/.test(f));
  if (jars.length !== 1)
    throw new Error(
      `expected one iceberg-spark-runtime jar in ${home}/jars, found ${jars.length}: run ci/spark/install.sh`,
    );
  return path.join(home, 'jars', jars[0]);
}

function sparkCommand(tool: 'spark-submit' | 'spark-sql', lakeRoot: string, args: readonly string[]): Promise<JobRun> {
  const home = requireSparkInstall();
  const python = path.join(home, 'venv/bin/python');
  return runCommand(
    path.join(home, 'venv/bin', tool),
    [
      '--master',
      'local[2]',
      '--jars',
      icebergRuntimeJar(home),
      // The C1 compiler only: these runs are short, and C2's compile threads would compete for the two
      // cores (measured: a read of the four tables in 21 s instead of 50 s on a loaded machine).
      '--driver-java-options',
      `-XX:TieredStopAtLevel=1 -Dlog4j.configurationFile=file:${path.join(repoRoot, 'dev/spark/log4j2.properties')}`,
      '--conf',
      'spark.driver.host=127.0.0.1',
      '--conf',
      'spark.driver.bindAddress=127.0.0.1',
      '--conf',
      'spark.ui.enabled=false',
      '--conf',
      'spark.sql.catalogImplementation=in-memory',
      '--conf',
      'spark.sql.session.timeZone=UTC',
      '--conf',
      'spark.sql.shuffle.partitions=2',
      ...catalogConf(lakeRoot),
      ...args,
    ],
    { PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python, SPARK_LOCAL_IP: '127.0.0.1' },
  );
}

/** Runs a PySpark script with the `lakehouse` catalog. */
export function sparkSubmit(lakeRoot: string, script: string, args: readonly string[]): Promise<JobRun> {
  return sparkCommand('spark-submit', lakeRoot, [script, ...args]);
}

/** Runs a file of Spark SQL statements with the `lakehouse` catalog. */
export function sparkSqlFile(lakeRoot: string, sqlFile: string): Promise<JobRun> {
  return sparkCommand('spark-sql', lakeRoot, ['-f', sqlFile]);
}
