/**
 * One real Kafka broker per test process, shared by every test file that asks for it.
 *
 *   import { sharedBroker } from "./support/broker-fixture.ts";
 *   const { bootstrap } = await sharedBroker();   // "127.0.0.1:PORT"
 *
 * - Started lazily on the first call (10-20 s on a cold JVM; fetches the jars if missing).
 * - Stopped when the process ends: gracefully when the event loop drains, by SIGKILL on
 *   process.exit / SIGINT / SIGTERM / SIGHUP, and by a watchdog if this process is killed outright.
 * - With KAFKA_BOOTSTRAP_SERVER set (e.g. from `npm run broker -- start`), that broker is used and
 *   nothing is started or stopped.
 * Topics persist for the life of the broker: give each test its own topic and group names.
 *
 * The broker is secure as the chart's is (TLS, SCRAM users, ACLs): jobs run through runJob sign in
 * as their own user by themselves; a test's own client comes from `testKafka(bootstrap, role)`.
 */
import { rmSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { brokerRunning, startBroker, type Broker } from '../../dev/broker/broker.ts';
import { DEV_BROKER_ENV, kafkaJsSecurity, knownBroker } from '../../dev/broker/clients.ts';
import type { BrokerSecurity } from '../../dev/broker/handle.ts';
import type { KafkaRole } from '../../dev/broker/users.ts';

export interface SharedBroker {
  /** "host:port" to give to a Kafka client. */
  readonly bootstrap: string;
  /** The broker's log file, when this process started the broker. */
  readonly logFile?: string;
}

const shared = new Map<BrokerSecurity, Promise<SharedBroker>>();

/** The shared broker; a PLAINTEXT one (started beside it) only for what is not secure yet. */
export function sharedBroker(security: BrokerSecurity = 'sasl_ssl'): Promise<SharedBroker> {
  let broker = shared.get(security);
  if (!broker) shared.set(security, (broker = connectOrStart(security)));
  return broker;
}

async function connectOrStart(security: BrokerSecurity): Promise<SharedBroker> {
  const external = process.env.KAFKA_BOOTSTRAP_SERVER?.trim();
  if (external) return { bootstrap: external };
  const broker = await startBroker({ security });
  // Children that run jobs themselves (npm run local, a test's job processes) sign in to the secure one too.
  if (security === 'sasl_ssl')
    process.env[DEV_BROKER_ENV] = JSON.stringify({ bootstrap: broker.bootstrap, dataDir: broker.dataDir, security });
  stopOnExit(broker);
  return { bootstrap: broker.bootstrap, logFile: `${broker.dataDir}/broker.log` };
}

/** A KafkaJS client of the local broker at `bootstrap`, signed in as `role` (admin: a super user). */
export function testKafka(bootstrap: string, role: KafkaRole = 'admin', options: Partial<KafkaConfig> = {}): Kafka {
  const access = knownBroker(bootstrap);
  if (!access) throw new Error(`testKafka: ${bootstrap} is not a local broker this process knows`);
  return new Kafka({
    clientId: `test-${role}`,
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    ...kafkaJsSecurity(access, role),
    ...options,
  });
}

function stopOnExit(broker: Broker): void {
  // Synchronous: 'exit' and signal handlers cannot wait for a graceful shutdown.
  const killNow = () => {
    if (brokerRunning(broker)) process.kill(broker.pid, 'SIGKILL');
    rmSync(broker.dataDir, { recursive: true, force: true });
  };
  // Fires when the event loop drains (all tests done): time enough for a graceful stop.
  process.once('beforeExit', () => void broker.stop());
  process.once('exit', killNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killNow();
      process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[signal]);
    });
  }
}
