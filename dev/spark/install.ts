// Where ci/spark/install.sh puts Spark, PySpark, PyIceberg and the jars, and the versions it pins.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { lakehouseCache } from '../broker/paths.ts';

const versionsFile = path.resolve(import.meta.dirname, '../../ci/spark/versions.env');

function pinned(name: string): string {
  const match = new RegExp(`^${name}=(\\S+)$`, 'm').exec(readFileSync(versionsFile, 'utf8'));
  if (!match) throw new Error(`ci/spark/versions.env does not set ${name}`);
  return match[1];
}

/** SPARK_VERSION and SCALA_BINARY as ci/spark/versions.env pins them. */
export function sparkVersions(): { spark: string; scala: string } {
  return { spark: pinned('SPARK_VERSION'), scala: pinned('SCALA_BINARY') };
}

/** ICEBERG_VERSION and PYICEBERG_VERSION as ci/spark/versions.env pins them. */
export function icebergVersions(): { iceberg: string; pyiceberg: string } {
  return { iceberg: pinned('ICEBERG_VERSION'), pyiceberg: pinned('PYICEBERG_VERSION') };
}

/** The install directory of ci/spark/install.sh; throws, saying how to install, when it is missing. */
export function requireSparkInstall(): string {
  const home = path.join(lakehouseCache(), `spark-${sparkVersions().spark}`);
  if (!existsSync(path.join(home, '.complete')) || !existsSync(path.join(home, 'venv/bin/spark-submit'))) {
    throw new Error(`Spark is not installed in ${home}: run ci/spark/install.sh first`);
  }
  return home;
}
