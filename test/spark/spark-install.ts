import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** SPARK_VERSION and SCALA_BINARY as ci/spark/versions.env pins them. */
export function sparkVersions(): { spark: string; scala: string } {
  const text = readFileSync(path.join(repoRoot, 'ci/spark/versions.env'), 'utf8');
  const value = (name: string) => {
    const match = new RegExp(`^${name}=(\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`ci/spark/versions.env does not set ${name}`);
    return match[1];
  };
  return { spark: value('SPARK_VERSION'), scala: value('SCALA_BINARY') };
}

/** The install directory of ci/spark/install.sh; throws, saying how to install, when it is missing. */
export function requireSparkInstall(): string {
  const cache = process.env.LAKEHOUSE_CACHE || path.join(homedir(), '.cache', 'lakehouse');
  const home = path.join(cache, `spark-${sparkVersions().spark}`);
  if (!existsSync(path.join(home, '.complete')) || !existsSync(path.join(home, 'venv/bin/spark-submit'))) {
    throw new Error(`Spark is not installed in ${home}: run ci/spark/install.sh first (the Spark engine tests need it)`);
  }
  return home;
}
