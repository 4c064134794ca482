// Where the Kafka jars live and how to run a Java class from them.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cdsFlags } from './class-data-sharing.ts';
import { kafkaHome } from './paths.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

let fetched: Promise<string> | undefined;

/** Directory holding the Kafka jars; runs fetch-kafka.sh (once per process) when they are missing. */
export function ensureKafkaLibs(): Promise<string> {
  const libs = join(kafkaHome(), 'libs');
  if (existsSync(join(kafkaHome(), '.complete')) && existsSync(libs)) return Promise.resolve(libs);
  fetched ??= run('bash', [join(here, 'fetch-kafka.sh')], { maxBuffer: 16 << 20 })
    .then(({ stdout }) => stdout.trim().split('\n').at(-1) ?? libs)
    .catch((error: unknown) => {
      fetched = undefined;
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`fetch-kafka.sh failed: ${stderr.trim() || String(error)}`);
    });
  return fetched;
}

export async function kafkaClasspath(): Promise<string> {
  return join(await ensureKafkaLibs(), '*');
}

export interface KafkaToolOptions {
  /** Kill the tool after this long. Default 10 minutes. */
  readonly timeoutMs?: number;
  /** JVM heap ceiling, as for -Xmx. Default "512m". */
  readonly maxHeap?: string;
}

/**
 * Runs `mainClass` (e.g. "org.apache.kafka.tools.ProducerPerformance") with the broker's classpath
 * and returns its stdout. Rejects with the tool's stderr tail when it exits non-zero.
 */
export async function runKafkaTool(
  mainClass: string,
  args: readonly string[],
  options: KafkaToolOptions = {},
): Promise<string> {
  if (!/^[\w$.]+$/.test(mainClass)) throw new Error(`runKafkaTool: mainClass is not a Java class name: ${mainClass}`);
  const classpath = await kafkaClasspath();
  const log4j = join(here, 'log4j2-tools.properties');
  try {
    const { stdout } = await run(
      'java',
      [
        `-Xmx${options.maxHeap ?? '512m'}`,
        ...cdsFlags(),
        `-Dlog4j2.configurationFile=${log4j}`,
        '-cp',
        classpath,
        mainClass,
        ...args,
      ],
      { timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 << 20 },
    );
    return stdout;
  } catch (error) {
    const failure = error as { code?: number | string; signal?: string; stderr?: string; stdout?: string };
    const tail = (failure.stderr || failure.stdout || '').trim().split('\n').slice(-20).join('\n');
    throw new Error(`runKafkaTool ${mainClass} failed (exit ${failure.code ?? failure.signal ?? '?'}):\n${tail}`);
  }
}
