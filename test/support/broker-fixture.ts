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
 */
import { rmSync } from "node:fs";
import { brokerRunning, startBroker, type Broker } from "../../dev/broker/broker.ts";

export interface SharedBroker {
  /** "host:port" to give to a Kafka client. */
  readonly bootstrap: string;
  /** The broker's log file, when this process started the broker. */
  readonly logFile?: string;
}

let shared: Promise<SharedBroker> | undefined;

export function sharedBroker(): Promise<SharedBroker> {
  shared ??= connectOrStart();
  return shared;
}

async function connectOrStart(): Promise<SharedBroker> {
  const external = process.env.KAFKA_BOOTSTRAP_SERVER?.trim();
  if (external) return { bootstrap: external };
  const broker = await startBroker();
  stopOnExit(broker);
  return { bootstrap: broker.bootstrap, logFile: `${broker.dataDir}/broker.log` };
}

function stopOnExit(broker: Broker): void {
  // Synchronous: 'exit' and signal handlers cannot wait for a graceful shutdown.
  const killNow = () => {
    if (brokerRunning(broker)) process.kill(broker.pid, "SIGKILL");
    rmSync(broker.dataDir, { recursive: true, force: true });
  };
  // Fires when the event loop drains (all tests done): time enough for a graceful stop.
  process.once("beforeExit", () => void broker.stop());
  process.once("exit", killNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killNow();
      process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[signal]);
    });
  }
}
