// The continuous producer's readiness file (LAKEHOUSE_READY_FILE, the chart's readiness probe) on a
// real broker: a stale one is removed at start, none exists while Kafka refuses every send (the
// producer user may see the topic but not write it), it appears with the first acknowledgement once
// it may, and it is removed when the producer stops.
import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import kafkajs from 'kafkajs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kafkaUsers } from '../../dev/broker/users.ts';
import { sharedBroker, testKafka } from '../support/broker-fixture.ts';
import { describeFailure, runJob, temporaryDir, uniqueNames } from '../support/lake.ts';

const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('ready only once Kafka acknowledged the first events; not before, not after the stop', async () => {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames('ready');
  const readyFile = path.join(temporaryDir('ready'), 'producer-ready');
  const env = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: topic,
    LAKEHOUSE_CONSUMER_GROUP: group,
    LAKEHOUSE_PRODUCER_MODE: 'continuous',
    LAKEHOUSE_EVENTS_PER_SECOND: '100',
    LAKEHOUSE_READY_FILE: readyFile,
  };
  // Another topic the topics job grants the producer user, so that it may start an idempotent
  // producer; this test's topic it may only describe: every send is refused until it may write it.
  assert.is((await runJob('topics', { ...env, LAKEHOUSE_TOPIC: `${topic}-other` })).exitCode, 0);
  assert.is((await runJob('topics', { ...env, LAKEHOUSE_KAFKA_ACLS: 'false' })).exitCode, 0);
  const grant = async (operation: number) => {
    const admin = testKafka(bootstrap).admin();
    await admin.connect();
    await admin
      .createAcls({
        acl: [
          {
            resourceType: kafkajs.AclResourceTypes.TOPIC,
            resourceName: topic,
            resourcePatternType: kafkajs.ResourcePatternTypes.LITERAL,
            principal: `User:${kafkaUsers.producer}`,
            host: '*',
            operation,
            permissionType: kafkajs.AclPermissionTypes.ALLOW,
          },
        ],
      })
      .finally(() => admin.disconnect());
  };
  await grant(kafkajs.AclOperationTypes.DESCRIBE);
  writeFileSync(readyFile, 'left by a container that ran before\n');
  const seen: string[] = [];
  let refusing: Promise<void> | undefined;
  const outcome = await runJob('produce', env, [], (line, child: ChildProcess) => {
    if (line.msg === 'topic found') seen.push(`topic found, ready file ${existsSync(readyFile)}`);
    if (line.msg === 'streaming')
      refusing = (async () => {
        // Sending, and refused: not ready.
        for (let i = 0; i < 5; i++) {
          await after(1_000);
          seen.push(`refused ${i}, ready file ${existsSync(readyFile)}`);
        }
        await grant(kafkajs.AclOperationTypes.WRITE);
        // Stopped once ready (below), or after this long whatever happens.
        setTimeout(() => child.kill('SIGTERM'), 30_000).unref();
      })();
    if (line.msg === 'ready: Kafka acknowledged the first events') {
      seen.push(`ready, ready file ${existsSync(readyFile)}`);
      setTimeout(() => child.kill('SIGTERM'), 1_000);
    }
  });
  await refusing;
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  assert.equal(seen, [
    'topic found, ready file false',
    ...[0, 1, 2, 3, 4].map((i) => `refused ${i}, ready file false`),
    'ready, ready file true',
  ]);
  assert.ok(
    outcome.lines.some(
      (l) =>
        l.msg === 'send failed; sending the same events again' && /not authorized|AUTHORIZATION/i.test(String(l.error)),
    ),
    'its sends were refused meanwhile',
  );
  const finished = outcome.lines.find((l) => l.msg === 'finished')?.result as Record<string, number>;
  assert.ok(finished.acknowledged > 0, JSON.stringify(finished));
  assert.not.ok(existsSync(readyFile), 'removed when it stops');
});

test.run();
