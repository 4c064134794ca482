/** Faults a job must survive with a clear word and an intact lake: Kafka going away, SIGTERM. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBroker } from '../../dev/broker/broker.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { describeFailure, runJob, temporaryDir, uniqueNames } from '../support/lake.ts';
import { tableFiles } from '../support/tables.ts';

const faults = suite('faults');

faults('Kafka stops answering mid-bronze: bronze fails within the wait, naming the broker, and commits nothing', async () => {
  const broker = await startBroker();
  let stopped: Promise<void> | undefined;
  try {
    const { topic, group } = uniqueNames('dead-broker');
    const dir = temporaryDir('dead-broker');
    const env = {
      KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, LAKEHOUSE_TOPIC: topic, LAKEHOUSE_CONSUMER_GROUP: group, LAKEHOUSE_DATA_DIR: dir,
      LAKEHOUSE_EVENTS: '20000', LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z', LAKEHOUSE_KAFKA_WAIT_SECONDS: '5',
    };
    for (const job of ['topics', 'produce']) assert.is((await runJob(job, env)).exitCode, 0);
    const started = Date.now();
    const bronze = await runJob('bronze', env, [], (line) => {
      if (line.msg === 'bronze plan') stopped ??= broker.stop();
    });
    const seconds = (Date.now() - started) / 1000;
    assert.is(bronze.exitCode, 1, describeFailure(bronze));
    const failure = bronze.lines.find((l) => l.msg === 'failed');
    assert.match(String(failure?.error), new RegExp(`Kafka at ${broker.bootstrap}`));
    assert.ok(seconds < 60, `bronze took ${seconds}s to give up`);
    assert.equal(await tableFiles(dir, 'bronze'), []);
  } finally {
    await (stopped ?? broker.stop());
  }
});

faults('SIGTERM stops a job with a "failed" line naming the signal; a re-run completes', async () => {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames('sigterm');
  const env = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap, LAKEHOUSE_TOPIC: topic, LAKEHOUSE_CONSUMER_GROUP: group, LAKEHOUSE_DATA_DIR: temporaryDir('sigterm'),
    LAKEHOUSE_EVENTS: '5000', LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z',
  };
  for (const job of ['topics', 'produce']) assert.is((await runJob(job, env)).exitCode, 0);
  const stopped = await runJob('bronze', env, [], (line, child) => {
    if (line.msg === 'bronze plan') child.kill('SIGTERM');
  });
  assert.is(stopped.exitCode, 143);
  const last = stopped.lines.at(-1)!;
  assert.equal([last.msg, last.signal], ['failed', 'SIGTERM']);
  for (const job of ['bronze', 'silver', 'gold', 'verify']) {
    const outcome = await runJob(job, env);
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
  }
});

faults.run();
