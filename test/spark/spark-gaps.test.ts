// The Spark engine's bronze, like the Node engine's, records what Kafka deleted before it read it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contract } from '../../jobs/contract.ts';
import { sharedBroker, testKafka } from '../support/broker-fixture.ts';
import { readTables } from './lake-compare.ts';
import { logLine, runNodeJob, runSparkStage } from './run-job.ts';
import { requireSparkInstall } from './spark-install.ts';

const run = `${process.pid}-${Date.now()}`;
const work = mkdtempSync(path.join(tmpdir(), 'spark-gaps-'));
const { summaryKeys: keys } = contract();

test.after(() => rmSync(work, { recursive: true, force: true }));

test('records retention deleted before Spark bronze read them are recorded as a gap, and verify names the loss', async () => {
  requireSparkInstall();
  const { bootstrap } = await sharedBroker();
  const topic = `spark-gaps-${run}`;
  const env = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: topic,
    LAKEHOUSE_PARTITIONS: '1',
    LAKEHOUSE_EVENTS: '100',
    LAKEHOUSE_DATA_DIR: path.join(work, 'lake'),
    LAKEHOUSE_CONSUMER_GROUP: `spark-gaps-${run}`,
    LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z',
    LAKEHOUSE_KAFKA_WAIT_SECONDS: '60',
  };
  await runNodeJob('topics', env);
  await runNodeJob('produce', env);
  await runSparkStage('bronze', env);
  await runNodeJob('produce', { ...env, LAKEHOUSE_START_TIME: '2023-10-14T13:20:00Z' });
  // What retention does, on demand: offsets 100..149 are gone before bronze's next run.
  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  await admin.fetchTopicMetadata({ topics: [topic] });
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '150' }] });
  await admin.disconnect();
  const bronze = await runSparkStage('bronze', env);
  assert.ok(
    bronze.stdout.includes('"level": "warn"') && bronze.stdout.includes('recorded as data loss'),
    bronze.stdout.slice(-2000),
  );
  assert.is((logLine(bronze, 'finished').result as { records: number }).records, 50);
  const head = readTables(env.LAKEHOUSE_DATA_DIR).bronze!.snapshots.at(-1)!;
  assert.equal(JSON.parse(head.summary[keys.gaps]), { 0: [[100, 150]] });
  assert.equal(JSON.parse(head.summary[keys.offsetRanges]), { 0: [100, 200] });
  for (const stage of ['silver', 'gold'] as const) await runSparkStage(stage, env);
  const verify = await runNodeJob('verify', env).then(
    () => 'passed',
    (error: Error) => error.message,
  );
  assert.match(verify, /no Kafka record was lost before bronze read it/);
  assert.match(verify, /partition 0 offsets 100\.\.149 \(50 records/);
});

test.run();
