// `npm run lakehouse -- <job>` against a local broker signs the job in by itself, as its own user
// (as `npm run local` does), under any setting the user gives; for any other Kafka it adds nothing.
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withBrokerAccess } from '../../dev/broker/clients.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { temporaryDir, uniqueNames } from '../support/lake.ts';
import { envWithout } from '../support/local-run.ts';

const DEFAULT_CA_FILE = '/etc/lakehouse/kafka-ca/ca.crt';

interface CommandRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run -s lakehouse -- args` from the repository, as a person runs it (no terminal: JSON log lines). */
function npmLakehouse(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'lakehouse', '--', ...args], {
      cwd: new URL('../..', import.meta.url),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr }));
  });
}

/** What a person's shell holds: no Kafka sign-in settings of its own. */
const personsEnv = () =>
  envWithout(
    'KAFKA_BOOTSTRAP_SERVER',
    'LAKEHOUSE_DATA_DIR',
    ...Object.keys(process.env).filter((name) => name.startsWith('LAKEHOUSE_KAFKA_')),
  );

const failure = (run: CommandRun) => `exit ${run.exitCode}\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`;

test('each job gets its own user on a local broker, under what env or flags give; nothing for another Kafka', async () => {
  const { bootstrap } = await sharedBroker();
  const user = (job: string, env: NodeJS.ProcessEnv, args: string[] = []) =>
    withBrokerAccess(job, env, args).LAKEHOUSE_KAFKA_USER;
  assert.is(user('topics', { KAFKA_BOOTSTRAP_SERVER: bootstrap }), 'lakehouse-admin');
  assert.is(user('produce', { KAFKA_BOOTSTRAP_SERVER: bootstrap }), 'lakehouse-producer');
  for (const job of ['bronze', 'silver', 'gold', 'verify', 'status', 'maintain'])
    assert.is(user(job, { KAFKA_BOOTSTRAP_SERVER: bootstrap }), 'lakehouse-pipeline', job);
  // The flag names the Kafka as well as the variable does, and wins over it.
  assert.is(user('produce', {}, ['produce', '--bootstrap-server', bootstrap]), 'lakehouse-producer');
  assert.is(user('produce', { KAFKA_BOOTSTRAP_SERVER: bootstrap }, ['--bootstrap-server=127.0.0.1:9']), undefined);
  assert.is(user('produce', { KAFKA_BOOTSTRAP_SERVER: bootstrap, LAKEHOUSE_KAFKA_USER: 'mine' }), 'mine');
  assert.equal(withBrokerAccess('bronze', { KAFKA_BOOTSTRAP_SERVER: '127.0.0.1:9' }), {
    KAFKA_BOOTSTRAP_SERVER: '127.0.0.1:9',
  });
  assert.equal(withBrokerAccess('bronze', {}), {});
});

test('with only KAFKA_BOOTSTRAP_SERVER naming the local broker: topics, produce, bronze and status run', async () => {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames('lakehouse-command');
  const env = { ...personsEnv(), KAFKA_BOOTSTRAP_SERVER: bootstrap, LAKEHOUSE_DATA_DIR: temporaryDir('lakehouse-cmd') };
  const names = ['--topic', topic, '--consumer-group', group];
  for (const job of [['topics'], ['produce', '--events', '40'], ['bronze']]) {
    const run = await npmLakehouse([...job, ...names], env);
    assert.is(run.exitCode, 0, `${job[0]}: ${failure(run)}`);
    assert.match(run.stdout.trimEnd().split('\n').at(-1)!, /"msg":"finished"/);
  }
  const status = await npmLakehouse(['status', '--json', ...names], env);
  assert.is(status.exitCode, 0, failure(status));
  const { kafka } = JSON.parse(status.stdout);
  assert.is(kafka.ok, true, JSON.stringify(kafka));
  assert.is(
    kafka.partitions.reduce((sum: number, p: { lag: number }) => sum + p.lag, 0),
    0,
    JSON.stringify(kafka),
  );
});

test('a setting given by flag or variable wins over the local broker’s', async () => {
  const { bootstrap } = await sharedBroker();
  const env = { ...personsEnv(), KAFKA_BOOTSTRAP_SERVER: bootstrap, LAKEHOUSE_DATA_DIR: temporaryDir('lakehouse-cmd') };
  const byFlag = await npmLakehouse(['produce', '--kafka-password-file', '/nonexistent/password'], env);
  assert.is(byFlag.exitCode, 1, failure(byFlag));
  assert.ok(byFlag.stdout.includes('LAKEHOUSE_KAFKA_PASSWORD_FILE: cannot read'), failure(byFlag));
  assert.ok(byFlag.stdout.includes('/nonexistent/password'), failure(byFlag));
  const byVariable = await npmLakehouse(['bronze'], { ...env, LAKEHOUSE_KAFKA_CA_FILE: '/nonexistent/ca.crt' });
  assert.is(byVariable.exitCode, 1, failure(byVariable));
  assert.ok(byVariable.stdout.includes('LAKEHOUSE_KAFKA_CA_FILE: cannot read'), failure(byVariable));
  assert.ok(byVariable.stdout.includes('/nonexistent/ca.crt'), failure(byVariable));
});

test('for a Kafka that is no local broker nothing is filled in: the chart’s default CA file is asked for', async () => {
  const env = { ...personsEnv(), KAFKA_BOOTSTRAP_SERVER: '127.0.0.1:9', LAKEHOUSE_DATA_DIR: temporaryDir('lh-cmd') };
  const run = await npmLakehouse(['bronze'], env);
  assert.is(run.exitCode, 1, failure(run));
  assert.ok(
    run.stdout.includes(`LAKEHOUSE_KAFKA_CA_FILE: cannot read the CA certificate from ${DEFAULT_CA_FILE}`),
    failure(run),
  );
});

test.run();
