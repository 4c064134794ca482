/**
 * The continuous producer when Kafka stops answering (its JVM paused with SIGSTOP, as a network
 * partition looks to a client), and when it is stopped while waiting: a broker of its own, since
 * pausing the shared one would stall every other test.
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { testKafka } from '../support/broker-fixture.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBroker, type Broker } from '../../dev/broker/broker.ts';
import { STOP_FLUSH_SECONDS } from '../../jobs/produce-stream.ts';
import { describeFailure, runJob, temporaryDir, uniqueNames, type JobOutcome } from '../support/lake.ts';

const faults = suite('continuous producer faults');
let broker: Broker;

faults.before(async () => {
  broker = await startBroker();
});

faults.after(async () => {
  resume();
  await broker.stop();
});

const pause = () => process.kill(broker.pid, 'SIGSTOP');
function resume(): void {
  try {
    process.kill(broker.pid, 'SIGCONT');
  } catch {
    // already gone
  }
}

function streamEnv(label: string, bootstrap: string): Record<string, string> {
  const { topic, group } = uniqueNames(label);
  return {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: topic,
    LAKEHOUSE_CONSUMER_GROUP: group,
    LAKEHOUSE_DATA_DIR: temporaryDir(label),
    LAKEHOUSE_PRODUCER_MODE: 'continuous',
    LAKEHOUSE_EVENTS_PER_SECOND: '100',
  };
}

/** Records on the topic; a broker just resumed from SIGSTOP may briefly answer "not the leader", so that is asked again. */
async function recordsOn(env: Record<string, string>): Promise<number> {
  const admin = testKafka(env.KAFKA_BOOTSTRAP_SERVER).admin();
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const offsets = await admin.fetchTopicOffsets(env.LAKEHOUSE_TOPIC);
        return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
      } catch (error) {
        if (!(error as { retriable?: boolean }).retriable || attempt === 30) throw error;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * The value of every record on the topic by partition and offset (a consumer may be given a record
 * twice after a rebalance; the topic holds it once), read up to the end offsets.
 */
async function valuesOn(env: Record<string, string>): Promise<string[]> {
  const kafka = testKafka(env.KAFKA_BOOTSTRAP_SERVER);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map(
    (await admin.fetchTopicOffsets(env.LAKEHOUSE_TOPIC).finally(() => admin.disconnect())).map((p) => [
      p.partition,
      Number(p.high),
    ]),
  );
  const consumer = kafka.consumer({ groupId: `${env.LAKEHOUSE_CONSUMER_GROUP}-check`, maxWaitTimeInMs: 100 });
  const byOffset = new Map<string, string>();
  const reached = new Map<number, number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: env.LAKEHOUSE_TOPIC, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${byOffset.size} records in 60 s`)), 60_000);
      const done = () => [...ends].every(([partition, end]) => (reached.get(partition) ?? 0) >= end);
      if (done()) return resolve();
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            byOffset.set(`${partition}:${message.offset}`, message.value!.toString('utf8'));
            reached.set(partition, Math.max(reached.get(partition) ?? 0, Number(message.offset) + 1));
            if (done()) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return [...byOffset.values()];
}

const result = (outcome: JobOutcome) =>
  outcome.lines.find((l) => l.msg === 'finished')?.result as Record<string, number>;
const after = (ms: number, action: () => void) => setTimeout(action, ms);

faults(
  'Kafka stops answering for 15 s: the producer says so, keeps going once it answers, and loses nothing it counted',
  async () => {
    const env = streamEnv('paused', broker.bootstrap);
    assert.is((await runJob('topics', env)).exitCode, 0);
    let acknowledgedBeforeResume = 0;
    const outcome = await runJob('produce', env, [], (line, child: ChildProcess) => {
      if (line.msg === 'streaming') {
        after(3_000, () => {
          pause();
          after(15_000, () => {
            resume();
            after(6_000, () => child.kill('SIGTERM'));
          });
        });
      }
      if (line.msg === 'progress') acknowledgedBeforeResume ||= Number(line.acknowledged);
    });
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
    assert.ok(
      outcome.lines.some((l) => l.level === 'warn' && l.msg === 'kafka has not acknowledged a send; retrying'),
      'the stall is logged',
    );
    const { acknowledged, unconfirmed } = result(outcome);
    assert.is(unconfirmed, 0);
    assert.ok(
      acknowledged > acknowledgedBeforeResume + 300,
      `${acknowledged} acknowledged, ${acknowledgedBeforeResume} before the pause ended`,
    );
    assert.is(await recordsOn(env), acknowledged);
  },
);

faults(
  'the broker (and its controller: one process) is killed mid-stream and started again: the topic holds exactly the records the producer acknowledged, none twice, none missing',
  async () => {
    // Valid events only: each one's value is unique (a vehicle's timestamps only increase), so a record twice shows.
    const env = {
      ...streamEnv('killed', broker.bootstrap),
      LAKEHOUSE_EVENTS_PER_SECOND: '400',
      LAKEHOUSE_PARTITIONS: '6',
      LAKEHOUSE_INVALID_RATIO: '0',
    };
    assert.is((await runJob('topics', env)).exitCode, 0);
    let fault: Promise<void> | undefined;
    const outcome = await runJob('produce', env, [], (line, child: ChildProcess) => {
      if (line.msg === 'streaming')
        after(4_000, () => {
          fault = (async () => {
            await broker.kill();
            await broker.restart();
            // Streams on until the topic has 2000 records more than when the broker came back.
            const back = await recordsOn(env);
            for (let waited = 0; waited < 90 && (await recordsOn(env)) < back + 2_000; waited++)
              await new Promise((resolve) => setTimeout(resolve, 1_000));
            child.kill('SIGTERM');
          })();
        });
    });
    await fault;
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
    const { acknowledged, unconfirmed, sent } = result(outcome);
    assert.is(unconfirmed, 0);
    assert.is(sent, acknowledged);
    assert.is(await recordsOn(env), acknowledged, 'records on the topic');
    const values = await valuesOn(env);
    assert.is(new Set(values).size, values.length, 'no record twice');
    assert.is(values.length, acknowledged);
    assert.ok(acknowledged > 3_000, `${acknowledged} acknowledged: it went on streaming once the broker was back`);
  },
);

faults(
  'stopped while Kafka does not answer: it waits for the send in flight within its bound, ends with exit 0 and counts it unconfirmed',
  async () => {
    const env = streamEnv('stop-stalled', broker.bootstrap);
    assert.is((await runJob('topics', env)).exitCode, 0);
    let stoppedAt = 0;
    const outcome = await runJob('produce', env, [], (line, child: ChildProcess) => {
      if (line.msg === 'streaming') {
        after(2_000, () => {
          pause();
          after(2_000, () => {
            stoppedAt = Date.now();
            child.kill('SIGTERM');
          });
        });
      }
    });
    const seconds = (Date.now() - stoppedAt) / 1000;
    resume();
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
    assert.ok(seconds >= STOP_FLUSH_SECONDS - 1 && seconds < STOP_FLUSH_SECONDS + 10, `stopped after ${seconds} s`);
    const { acknowledged, unconfirmed, sent } = result(outcome);
    assert.ok(unconfirmed > 0, 'the send in flight is unconfirmed');
    assert.is(sent, acknowledged + unconfirmed);
    const records = await recordsOn(env);
    assert.ok(
      records >= acknowledged && records <= acknowledged + unconfirmed,
      `${records} records, ${acknowledged} acknowledged`,
    );
  },
);

faults('a second signal ends it at once with a failed line', async () => {
  const env = streamEnv('second-signal', broker.bootstrap);
  assert.is((await runJob('topics', env)).exitCode, 0);
  const outcome = await runJob('produce', env, [], (line, child: ChildProcess) => {
    if (line.msg === 'streaming') {
      after(1_000, () => {
        pause();
        after(1_000, () => child.kill('SIGTERM'));
      });
    }
    if (line.msg === 'stopping') child.kill('SIGINT');
  });
  resume();
  assert.is(outcome.exitCode, 130);
  const last = outcome.lines.at(-1)!;
  assert.equal([last.msg, last.signal], ['failed', 'SIGINT']);
});

faults('stopped while it waits for its topic: exit 0, nothing sent', async () => {
  const env = streamEnv('no-topic', broker.bootstrap);
  const outcome = await runJob('produce', env, [], (line, child: ChildProcess) => {
    if (line.msg === 'waiting for the topic') child.kill('SIGTERM');
  });
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  assert.equal([result(outcome).sent, result(outcome).acknowledged], [0, 0]);
});

faults(
  'no Kafka at all: it keeps waiting past LAKEHOUSE_KAFKA_WAIT_SECONDS, says so, and a SIGTERM ends it with exit 0',
  async () => {
    const port = await closedPort();
    // Nobody listens there, so no credentials are needed to find that out.
    const env = {
      ...streamEnv('no-kafka', `127.0.0.1:${port}`),
      LAKEHOUSE_KAFKA_WAIT_SECONDS: '1',
      LAKEHOUSE_KAFKA_SECURITY: 'plaintext',
    };
    const started = Date.now();
    const outcome = await runJob('produce', env, [], (line, child: ChildProcess) => {
      if (line.msg === 'waiting for kafka') after(4_000, () => child.kill('SIGTERM'));
    });
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
    assert.ok(Date.now() - started > 4_000);
    assert.is(outcome.lines.filter((l) => l.msg === 'waiting for kafka').length, 1, 'said once, not at every attempt');
    assert.is(result(outcome).sent, 0);
  },
);

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

faults.run();
