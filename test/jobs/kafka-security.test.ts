/**
 * The local broker is secure as the chart's Kafka is: TLS, SCRAM-SHA-512 users and ACLs that the
 * topics job grants. The broker itself refuses what a user was not granted; a job given a wrong
 * password, an unknown user, a certificate for another host or a CA file that is missing or of
 * another authority stops at once with one line naming it (exit 1), before the lake has a table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { javaClientConfigFile, jobKafkaEnv, knownBroker } from '../../dev/broker/clients.ts';
import { kafkaClasspath } from '../../dev/broker/kafka-libs.ts';
import type { KafkaRole } from '../../dev/broker/users.ts';
import kafkajs from 'kafkajs';
import { brokerTls, makeCertificates } from '../../dev/broker/tls.ts';
import { headOf } from '../../jobs/lake/lake.ts';
import { sharedBroker, testKafka } from '../support/broker-fixture.ts';
import { describeFailure, runJob, temporaryDir, uniqueNames } from '../support/lake.ts';
import { findTable } from '../support/tables.ts';

const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

const security = suite('kafka security');

/**
 * A topic with events in it, as the producer leaves it, and a lake no job has written yet. With
 * `acls: false` the topics job grants no ACL, and the admin user (a super user) sends the events.
 */
async function producedTopic(label: string, { acls = true } = {}) {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames(label);
  const dir = temporaryDir(label);
  const env = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: topic,
    LAKEHOUSE_CONSUMER_GROUP: group,
    LAKEHOUSE_DATA_DIR: dir,
    LAKEHOUSE_EVENTS: '20',
    LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z',
    LAKEHOUSE_KAFKA_WAIT_SECONDS: '60',
    LAKEHOUSE_KAFKA_ACLS: String(acls),
  };
  const asAdmin = acls ? {} : jobKafkaEnv(knownBroker(bootstrap)!, 'topics');
  for (const job of ['topics', 'produce']) {
    const outcome = await runJob(job, { ...env, ...(job === 'produce' ? asAdmin : {}) });
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
  }
  return { bootstrap, topic, group, dir, env };
}

/**
 * Runs `job`, killing it after `limitSeconds` (a job that hangs fails the test rather than
 * stalling it); its outcome, the seconds it took and its `failed` line's error.
 */
async function timedJob(job: string, env: Record<string, string>, limitSeconds = 90) {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await runJob(job, env, [], (_line, child) => {
    timer ??= setTimeout(() => child.kill('SIGKILL'), limitSeconds * 1000 - (Date.now() - started));
  });
  clearTimeout(timer);
  const seconds = (Date.now() - started) / 1000;
  const failed = outcome.lines.find((l) => l.msg === 'failed');
  return { outcome, seconds, error: String(failed?.error), stack: failed?.stack };
}

/** `job` fails with exit 1 within `withinSeconds`, in one line (no stack) matching every pattern. */
async function failsFast(
  job: string,
  env: Record<string, string>,
  patterns: (string | RegExp)[],
  withinSeconds = 15,
): Promise<string> {
  const { outcome, seconds, error, stack } = await timedJob(job, env);
  assert.is(outcome.exitCode, 1, describeFailure(outcome));
  for (const pattern of patterns) assert.match(error, pattern, error);
  assert.not.ok(stack, `one line, no stack: ${error}`);
  assert.ok(
    seconds < withinSeconds,
    `${job} took ${seconds}s to fail (Kafka wait ${env.LAKEHOUSE_KAFKA_WAIT_SECONDS}s): ${error}`,
  );
  return error;
}

/** bronze with `override` fails fast with exit 1 and a message matching `expected`; the lake has no table. */
async function refused(
  label: string,
  override: (env: Record<string, string>, dir: string) => Record<string, string>,
  expected: RegExp,
) {
  const lake = await producedTopic(label);
  const started = Date.now();
  const outcome = await runJob('bronze', override(lake.env, lake.dir));
  const seconds = (Date.now() - started) / 1000;
  assert.is(outcome.exitCode, 1, describeFailure(outcome));
  const failed = outcome.lines.find((l) => l.msg === 'failed');
  assert.match(String(failed?.error), expected, String(failed?.error));
  assert.not.ok(failed?.stack, 'one line, no stack');
  assert.ok(
    seconds < 30,
    `bronze took ${seconds}s to give up (the wait was 60s): a refusal is not retried: ${failed?.error}`,
  );
  // Only the lake's own records: the run's failure in ops.runs (ops/) and the writer lease's directory.
  assert.equal(fs.readdirSync(lake.dir).sort(), ['.lakehouse', 'ops'], 'no table is created');
  const text = outcome.lines.map((l) => JSON.stringify(l)).join('\n');
  const password = fs.readFileSync(
    jobKafkaEnv(knownBroker(lake.bootstrap)!, 'bronze').LAKEHOUSE_KAFKA_PASSWORD_FILE,
    'utf8',
  );
  assert.not.ok(text.includes(password), 'the password is never logged');
}

const writeFile = (_dir: string, name: string, text: string) => {
  const file = path.join(temporaryDir(`secret-${name}`), name);
  fs.writeFileSync(file, text);
  return file;
};

security('the pipeline signs in as lakehouse-pipeline over TLS: the broker serves nothing without TLS', async () => {
  const lake = await producedTopic('tls-only');
  await failsFast('bronze', { ...lake.env, LAKEHOUSE_KAFKA_SECURITY: 'plaintext' }, [
    `Kafka at ${lake.bootstrap} speaks TLS with SASL authentication (SASL_SSL) but LAKEHOUSE_KAFKA_SECURITY=plaintext`,
  ]);
  assert.equal(fs.readdirSync(lake.dir).sort(), ['.lakehouse', 'ops']);
  const ok = await runJob('bronze', lake.env);
  assert.is(ok.exitCode, 0, describeFailure(ok));
});

/** Kafka's own console consumer signed in as `role`: what it printed (records) and said (stderr). */
async function consoleConsumer(bootstrap: string, role: KafkaRole, args: string[]) {
  const { stdout, stderr } = await promisify(execFile)(
    'java',
    [
      '-Xmx256m',
      `-Dlog4j2.configurationFile=${path.resolve('dev/broker/log4j2-tools.properties')}`,
      '-cp',
      await kafkaClasspath(),
      'org.apache.kafka.tools.consumer.ConsoleConsumer',
      '--bootstrap-server',
      bootstrap,
      '--max-messages',
      '1',
      '--timeout-ms',
      '30000',
      '--consumer.config',
      javaClientConfigFile(knownBroker(bootstrap)!, role),
      ...args,
    ],
    { timeout: 120_000 },
  );
  return { records: stdout.trim().split('\n').filter(Boolean), stderr };
}

security(
  'the broker refuses the producer user reading the topic or joining the group, and the pipeline user writing it',
  async () => {
    const { bootstrap, topic, group } = await producedTopic('acl-denial');
    const fromPartition = ['--topic', topic, '--partition', '0', '--offset', 'earliest'];
    const byProducer = await consoleConsumer(bootstrap, 'producer', fromPartition);
    assert.equal(byProducer.records, []);
    assert.match(byProducer.stderr, `TopicAuthorizationException: Not authorized to access topics: [${topic}]`);
    const inGroup = await consoleConsumer(bootstrap, 'producer', [
      '--topic',
      topic,
      '--group',
      group,
      '--from-beginning',
    ]);
    assert.equal(inGroup.records, []);
    assert.match(inGroup.stderr, `GroupAuthorizationException: Not authorized to access group: ${group}`);
    // The same read as the pipeline user gets its record: the ACL, not the command, decides.
    const byPipeline = await consoleConsumer(bootstrap, 'pipeline', [
      '--topic',
      topic,
      '--group',
      `${group}.check`,
      '--from-beginning',
    ]);
    assert.is(byPipeline.records.length, 1, byPipeline.stderr);

    const producer = testKafka(bootstrap, 'pipeline', { retry: { retries: 0 } }).producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      const sending = producer.send({ topic, messages: [{ value: 'forged' }] });
      await sending.then(
        () => assert.unreachable('the pipeline user wrote the topic'),
        (error: Error) =>
          assert.match(error.message, /not authorized|authorization failed/i, `${error.name}: ${error.message}`),
      );
    } finally {
      await producer.disconnect();
    }
    const admin = testKafka(bootstrap, 'admin').admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    assert.is(
      offsets.reduce((sum, p) => sum + Number(p.high), 0),
      20,
      'the topic holds only what the producer sent',
    );
  },
);

security('a wrong password stops bronze naming the user', () =>
  refused(
    'wrong-password',
    (env, dir) => ({ ...env, LAKEHOUSE_KAFKA_PASSWORD_FILE: writeFile(dir, 'password', 'not-the-password\n') }),
    /refused user "lakehouse-pipeline" \(scram-sha-512\): wrong password or unknown user/,
  ),
);

security('an unknown user stops bronze naming it', () =>
  refused(
    'unknown-user',
    (env) => ({ ...env, LAKEHOUSE_KAFKA_USER: 'lakehouse-nobody' }),
    /refused user "lakehouse-nobody"/,
  ),
);

security('a certificate that does not name the host stops bronze naming the host', () =>
  // localhost is 127.0.0.1 by another name, one the local broker's certificate (dev/broker/tls.ts) does not list.
  refused(
    'wrong-host',
    (env) => ({
      ...jobKafkaEnv(knownBroker(env.KAFKA_BOOTSTRAP_SERVER)!, 'bronze'),
      ...env,
      KAFKA_BOOTSTRAP_SERVER: env.KAFKA_BOOTSTRAP_SERVER.replace('127.0.0.1', 'localhost'),
    }),
    /the TLS certificate of Kafka at localhost:\d+ is not issued for that host/,
  ),
);

security('a CA file of another authority stops bronze naming the file', async () => {
  const other = temporaryDir('other-ca');
  makeCertificates(other);
  await refused(
    'other-ca',
    (env) => ({ ...env, LAKEHOUSE_KAFKA_CA_FILE: path.join(other, 'ca.crt') }),
    new RegExp(`is not signed by the CA in LAKEHOUSE_KAFKA_CA_FILE=${path.join(other, 'ca.crt')}`),
  );
});

security('a missing CA file or password file stops bronze naming the file', async () => {
  await refused(
    'no-ca',
    (env, dir) => ({ ...env, LAKEHOUSE_KAFKA_CA_FILE: path.join(dir, 'no-such-ca.crt') }),
    /LAKEHOUSE_KAFKA_CA_FILE: cannot read the CA certificate from \S+no-such-ca\.crt \(ENOENT\)/,
  );
  await refused(
    'no-password',
    (env, dir) => ({ ...env, LAKEHOUSE_KAFKA_PASSWORD_FILE: path.join(dir, 'no-such-password') }),
    /LAKEHOUSE_KAFKA_PASSWORD_FILE: cannot read the password of Kafka user "lakehouse-pipeline" from \S+no-such-password \(ENOENT\)/,
  );
});

security.run();

const protocols = suite('kafka protocol mismatches: each fails within seconds naming what the listener speaks');

protocols('clients without TLS or without SASL against the SASL_SSL listener', async () => {
  const lake = await producedTopic('mismatch-secure');
  for (const security of ['ssl', 'sasl_plaintext']) {
    await failsFast('bronze', { ...lake.env, LAKEHOUSE_KAFKA_SECURITY: security }, [
      `Kafka at ${lake.bootstrap} speaks TLS with SASL authentication (SASL_SSL) but LAKEHOUSE_KAFKA_SECURITY=${security}`,
    ]);
  }
});

protocols('clients with TLS or with SASL against a PLAINTEXT listener', async () => {
  const { bootstrap } = await sharedBroker('plaintext');
  const secrets = temporaryDir('mismatch-secrets');
  const env = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_DATA_DIR: temporaryDir('mismatch-plaintext'),
    LAKEHOUSE_KAFKA_WAIT_SECONDS: '60',
    LAKEHOUSE_KAFKA_CA_FILE: brokerTls().caFile,
    LAKEHOUSE_KAFKA_PASSWORD_FILE: writeFile(secrets, 'password', 'a-password\n'),
  };
  for (const security of ['sasl_ssl', 'ssl', 'sasl_plaintext']) {
    await failsFast('bronze', { ...env, LAKEHOUSE_KAFKA_SECURITY: security }, [
      `Kafka at ${bootstrap} speaks neither TLS nor SASL (PLAINTEXT) but LAKEHOUSE_KAFKA_SECURITY=${security}`,
    ]);
  }
});

protocols(
  'a SASL mechanism the listener does not enable fails at once naming the setting (it used to wait out the Kafka wait)',
  async () => {
    const lake = await producedTopic('mismatch-mechanism');
    await failsFast('bronze', { ...lake.env, LAKEHOUSE_KAFKA_SASL_MECHANISM: 'scram-sha-256' }, [
      `Kafka at ${lake.bootstrap} does not accept the SASL mechanism SCRAM-SHA-256 (LAKEHOUSE_KAFKA_SASL_MECHANISM=scram-sha-256)`,
    ]);
  },
);

protocols.run();

const authorization = suite(
  'kafka authorization: a missing ACL fails within seconds naming the user, the resource and the ACL',
);

authorization('bronze in a consumer group outside the granted prefix', async () => {
  const lake = await producedTopic('acl-group');
  const other = `other-${lake.group}`;
  await failsFast('bronze', { ...lake.env, LAKEHOUSE_CONSUMER_GROUP: other }, [
    'user "lakehouse-pipeline"',
    new RegExp(`consumer group "${other}\\.run-[0-9a-f-]{36}"`),
    `READ and DESCRIBE on consumer groups with the prefix "${other}" (PREFIXED)`,
  ]);
  assert.is(headOf(await findTable(lake.dir, 'bronze')), undefined, 'bronze committed nothing');
});

authorization(
  'bronze on a topic the user may not describe (the topics job granted no ACL): missing or refused, with the ACL',
  async () => {
    const lake = await producedTopic('acl-topic', { acls: false });
    await failsFast('bronze', lake.env, [
      'user "lakehouse-pipeline"',
      `topic "${lake.topic}"`,
      `READ and DESCRIBE on the topic "${lake.topic}" (LITERAL)`,
      'LAKEHOUSE_KAFKA_ACLS',
    ]);
  },
);

/** Grants `operations` on a resource to the pipeline user, as an administrator would by hand. */
async function grant(
  bootstrap: string,
  type: 'TOPIC' | 'GROUP',
  name: string,
  prefixed: boolean,
  operations: ('READ' | 'DESCRIBE')[],
) {
  const admin = testKafka(bootstrap, 'admin').admin();
  await admin.connect();
  try {
    await admin.createAcls({
      acl: operations.map((operation) => ({
        resourceType: AclResourceTypes[type],
        resourceName: name,
        resourcePatternType: prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
        principal: 'User:lakehouse-pipeline',
        host: '*',
        operation: AclOperationTypes[operation],
        permissionType: AclPermissionTypes.ALLOW,
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

authorization(
  "bronze on a topic the user may describe but not read: the consumer's refusal, not the 60 s wait",
  async () => {
    const lake = await producedTopic('acl-read', { acls: false });
    await grant(lake.bootstrap, 'TOPIC', lake.topic, false, ['DESCRIBE']);
    await grant(lake.bootstrap, 'GROUP', lake.group, true, ['READ', 'DESCRIBE']);
    await failsFast('bronze', lake.env, [
      'user "lakehouse-pipeline"',
      `READ and DESCRIBE on the topic "${lake.topic}"`,
    ]);
  },
);

authorization(
  "bronze's commit to a group it may describe but not join: fails naming the group instead of hanging",
  async () => {
    const lake = await producedTopic('acl-commit', { acls: false });
    await grant(lake.bootstrap, 'TOPIC', lake.topic, false, ['READ', 'DESCRIBE']);
    // Its own run groups, `<group>.run-<id>`, but only DESCRIBE on the group it commits to.
    await grant(lake.bootstrap, 'GROUP', `${lake.group}.run-`, true, ['READ', 'DESCRIBE']);
    await grant(lake.bootstrap, 'GROUP', lake.group, false, ['DESCRIBE']);
    await failsFast('bronze', lake.env, [
      'user "lakehouse-pipeline"',
      `consumer group "${lake.group}"`,
      `READ and DESCRIBE on consumer groups with the prefix "${lake.group}" (PREFIXED)`,
      'records read are in bronze',
    ]);
  },
);

authorization("verify's read of the committed offsets, for a group outside the granted prefix", async () => {
  const lake = await producedTopic('acl-verify');
  const other = `other-${lake.group}`;
  await failsFast('verify', { ...lake.env, LAKEHOUSE_CONSUMER_GROUP: other }, [
    'user "lakehouse-pipeline"',
    `consumer group "${other}"`,
    `READ and DESCRIBE on consumer groups with the prefix "${other}" (PREFIXED)`,
    'LAKEHOUSE_VERIFY_KAFKA=false',
  ]);
});

authorization.run();
