/** What this machine allows: Apache Kafka's own perf tools on the same broker and message size. */
import { runKafkaTool } from '../broker/broker.ts';
import { javaClientConfigFile, knownBroker } from '../broker/clients.ts';

/** Kafka's tools sign in as the admin user of a secure local broker. */
const clientConfig = (bootstrap: string) => javaClientConfigFile(knownBroker(bootstrap)!, 'admin');

export interface Baseline {
  readonly eventsPerSec: number;
  readonly seconds: number;
  readonly raw: string;
}

/** `kafka-producer-perf-test`, acks=all and idempotence as the lakehouse producer uses. */
export async function producerPerf(
  bootstrap: string,
  topic: string,
  records: number,
  recordSize: number,
): Promise<Baseline> {
  const started = performance.now();
  const output = await runKafkaTool(
    'org.apache.kafka.tools.ProducerPerformance',
    [
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${bootstrap}`,
      'acks=all',
      'enable.idempotence=true',
      '--producer.config',
      clientConfig(bootstrap),
    ],
    { timeoutMs: 3_600_000, maxHeap: '512m' },
  );
  // "1000000 records sent, 412371.1 records/sec (53.09 MB/sec), 250.1 ms avg latency, …"
  const summary = output
    .trim()
    .split('\n')
    .reverse()
    .find((line) => /records sent/.test(line));
  const rate = summary ? /([\d.]+) records\/sec/.exec(summary)?.[1] : undefined;
  if (!rate) throw new Error(`ProducerPerformance printed no summary:\n${output.slice(-2000)}`);
  return { eventsPerSec: Number(rate), seconds: (performance.now() - started) / 1000, raw: summary! };
}

/** `kafka-consumer-perf-test` reading the same number of records in a fresh group. */
export async function consumerPerf(bootstrap: string, topic: string, records: number): Promise<Baseline> {
  const started = performance.now();
  const output = await runKafkaTool(
    'org.apache.kafka.tools.ConsumerPerformance',
    [
      '--bootstrap-server',
      bootstrap,
      '--topic',
      topic,
      '--messages',
      String(records),
      '--group',
      `perf-${Date.now()}`,
      '--timeout',
      '60000',
      '--consumer.config',
      clientConfig(bootstrap),
    ],
    { timeoutMs: 3_600_000, maxHeap: '512m' },
  );
  // header "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, …"
  const lines = output
    .trim()
    .split('\n')
    .filter((l) => l.includes(','));
  const header = lines.find((l) => l.includes('nMsg.sec'));
  const values = lines.at(-1);
  if (!header || !values || values === header)
    throw new Error(`ConsumerPerformance printed no result:\n${output.slice(-2000)}`);
  const columns = header.split(',').map((c) => c.trim());
  const cells = values.split(',').map((c) => c.trim());
  const consumed = Number(cells[columns.indexOf('data.consumed.in.nMsg')]);
  if (consumed < records) throw new Error(`ConsumerPerformance read ${consumed} of ${records} records`);
  const seconds = (performance.now() - started) / 1000;
  return { eventsPerSec: Number(cells[columns.indexOf('nMsg.sec')]), seconds, raw: `${header}\n${values}` };
}
