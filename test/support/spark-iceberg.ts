/**
 * Spark with Iceberg's runtime and the lake as a Hadoop catalog named `lakehouse` (warehouse = the
 * lake root), as ci/spark/install.sh installs it: the command lines the tests' Spark reader and
 * fixtures run. Spark's own catalog is kept in memory, so no Hive metastore is left behind.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { CatalogSettings } from '../../dev/objectstore/settings.ts';
import { runCommand, type JobRun } from '../spark/run-job.ts';
import { repoRoot, requireSparkInstall } from '../spark/spark-install.ts';

/** A lake as a reader finds it: a volume's root directory, or a REST catalog's settings. */
export type LakeLocation = string | CatalogSettings;

/** The catalog settings, exactly those the README's "Querying the tables" gives. */
export function catalogConf(lake: LakeLocation): string[] {
  const catalog =
    typeof lake === 'string'
      ? ['spark.sql.catalog.lakehouse.type=hadoop', `spark.sql.catalog.lakehouse.warehouse=file:${path.resolve(lake)}`]
      : [
          'spark.sql.catalog.lakehouse.type=rest',
          `spark.sql.catalog.lakehouse.uri=${lake.LAKEHOUSE_CATALOG_URI}`,
          `spark.sql.catalog.lakehouse.warehouse=${lake.LAKEHOUSE_CATALOG_WAREHOUSE}`,
          'spark.sql.catalog.lakehouse.io-impl=org.apache.iceberg.aws.s3.S3FileIO',
          `spark.sql.catalog.lakehouse.s3.endpoint=${lake.LAKEHOUSE_S3_ENDPOINT}`,
          'spark.sql.catalog.lakehouse.s3.path-style-access=true',
          `spark.sql.catalog.lakehouse.s3.access-key-id=${lake.AWS_ACCESS_KEY_ID}`,
          `spark.sql.catalog.lakehouse.s3.secret-access-key=${lake.AWS_SECRET_ACCESS_KEY}`,
          `spark.sql.catalog.lakehouse.client.region=${lake.AWS_REGION}`,
          ...(lake.LAKEHOUSE_CATALOG_CREDENTIAL
            ? [
                `spark.sql.catalog.lakehouse.credential=${lake.LAKEHOUSE_CATALOG_CREDENTIAL}`,
                `spark.sql.catalog.lakehouse.oauth2-server-uri=${lake.LAKEHOUSE_CATALOG_URI}/v1/oauth/tokens`,
              ]
            : []),
        ];
  return [
    'spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
    'spark.sql.catalog.lakehouse=org.apache.iceberg.spark.SparkCatalog',
    ...catalog,
  ].flatMap((setting) => ['--conf', setting]);
}

/** The Iceberg AWS bundle jar ci/spark/install.sh fetched (S3FileIO, for a REST catalog on S3). */
function icebergAwsJar(home: string): string {
  const jars = readdirSync(path.join(home, 'jars')).filter((f) => /^iceberg-aws-bundle-.*\.jar$/.test(f));
  if (jars.length !== 1)
    throw new Error(`expected one iceberg-aws-bundle jar in ${home}/jars: run ci/spark/install.sh`);
  return path.join(home, 'jars', jars[0]);
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

function sparkCommand(
  tool: 'spark-submit' | 'spark-sql',
  lake: LakeLocation,
  args: readonly string[],
): Promise<JobRun> {
  const home = requireSparkInstall();
  const python = path.join(home, 'venv/bin/python');
  return runCommand(
    path.join(home, 'venv/bin', tool),
    [
      '--master',
      'local[2]',
      '--jars',
      typeof lake === 'string' ? icebergRuntimeJar(home) : `${icebergRuntimeJar(home)},${icebergAwsJar(home)}`,
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
      ...catalogConf(lake),
      ...args,
    ],
    { PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python, SPARK_LOCAL_IP: '127.0.0.1' },
  );
}

/** Runs a PySpark script with the `lakehouse` catalog. */
export function sparkSubmit(lake: LakeLocation, script: string, args: readonly string[]): Promise<JobRun> {
  return sparkCommand('spark-submit', lake, [script, ...args]);
}

/** Runs a file of Spark SQL statements with the `lakehouse` catalog. */
export function sparkSqlFile(lakeRoot: string, sqlFile: string): Promise<JobRun> {
  return sparkCommand('spark-sql', lakeRoot, ['-f', sqlFile]);
}
