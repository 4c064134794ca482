// A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM) on loopback.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaClasspath, runKafkaTool } from './kafka-libs.ts';
import { canConnect, freePort } from './net.ts';
import { adoptArchive, cdsFlags } from './class-data-sharing.ts';
import { guardAgainstOrphan } from './orphan-guard.ts';
import { isBrokerProcess, terminate } from './process-control.ts';
import { serverProperties } from './server-config.ts';
import { kafkaJsSecurity, rememberBroker } from './clients.ts';
import type { BrokerAccess, BrokerHandle, BrokerSecurity } from './handle.ts';
import { brokerTls } from './tls.ts';
import { makeUsers } from './users.ts';

export { runKafkaTool } from './kafka-libs.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface BrokerOptions {
  /**
   * Start the JVM in its own session so it outlives this process. Default false: the broker is
   * SIGKILLed (and its dataDir removed) if this process dies without calling stop().
   */
  readonly detached?: boolean;
  /** JVM -Xms / -Xmx. Defaults "256m" / "768m". */
  readonly minHeap?: string;
  readonly maxHeap?: string;
  /** How long to wait for the broker to answer. Default 120 s (a cold JVM on 2 cores is slow). */
  readonly readyTimeoutMs?: number;
  /**
   * "sasl_ssl" (default): TLS on every listener, SCRAM-SHA-512 users (clients.ts, users.ts) and
   * ACLs; "plaintext": no TLS and no authentication, for measuring what security costs.
   */
  readonly security?: BrokerSecurity;
  /** server.properties additions/overrides. */
  readonly config?: Readonly<Record<string, string | number | boolean>>;
}

export interface Broker extends BrokerHandle {
  /** Milliseconds from spawning the JVM to the broker answering describeCluster. */
  readonly readyMs: number;
  /** SIGTERM, SIGKILL after a bound, then removes dataDir. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * SIGKILLs the JVM (broker and controller: one process) and resolves once it is gone; dataDir and
   * the ports stay, for restart(). A fault to inject: nothing of the broker's shutdown runs.
   */
  kill(): Promise<void>;
  /** Starts the JVM again on the same dataDir and ports (after kill()), and waits until it answers; `pid` is then the new one. */
  restart(): Promise<void>;
}

// A graceful stop normally takes ~1 s, but the first one also writes the class-data archive.
const STOP_GRACE_MS = 30_000;
const CDS_DUMP = 'classes.jsa';

function checkOptions(options: BrokerOptions): void {
  for (const field of ['minHeap', 'maxHeap'] as const) {
    const value = options[field];
    if (value !== undefined && !/^[1-9]\d*[kmg]?$/i.test(value)) {
      throw new Error(`startBroker: ${field} must be a JVM size like "512m", got ${JSON.stringify(value)}`);
    }
  }
  const timeout = options.readyTimeoutMs;
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
    throw new Error(`startBroker: readyTimeoutMs must be a positive number of ms, got ${timeout}`);
  }
}

export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  checkOptions(options);
  const classpath = await kafkaClasspath();
  const dataDir = mkdtempSync(join(tmpdir(), 'lakehouse-kafka-'));
  try {
    return await launch(classpath, dataDir, options);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(classpath: string, dataDir: string, options: BrokerOptions): Promise<Broker> {
  const clientPort = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === clientPort) controllerPort = await freePort();

  const security = options.security ?? 'sasl_ssl';
  const users = security === 'sasl_ssl' ? makeUsers(dataDir) : undefined;
  const secure = users && { tls: brokerTls(), adminPassword: users.passwords.admin };
  const propertiesFile = join(dataDir, 'server.properties');
  writeFileSync(
    propertiesFile,
    serverProperties({
      clientPort,
      controllerPort,
      logDir: join(dataDir, 'kraft-logs'),
      secure,
      extra: options.config,
    }),
    { mode: 0o600 },
  );
  const format = ['format', '-t', randomClusterId(), '-c', propertiesFile, ...(users?.scramArgs ?? [])];
  await runKafkaTool('kafka.tools.StorageTool', format, {
    timeoutMs: 120_000,
    maxHeap: '256m',
  }).catch((error: Error) => {
    throw new Error(`broker: formatting storage with ${propertiesFile} failed: ${error.message}`);
  });

  const access: BrokerAccess = { bootstrap: `127.0.0.1:${clientPort}`, dataDir, security };
  const start = () => startJvm(classpath, access, clientPort, propertiesFile, options);
  let running = await start();
  rememberBroker(access);
  let stopping: Promise<void> | undefined;
  const broker: Broker = {
    ...access,
    get pid() {
      return running.pid;
    },
    readyMs: running.readyMs,
    stop: () => (stopping ??= stopBroker(broker)),
    kill: async () => {
      if (isBrokerProcess(running.pid, dataDir)) await terminate(running.pid, 0);
    },
    restart: async () => {
      if (isBrokerProcess(running.pid, dataDir))
        throw new Error(`broker: pid ${running.pid} still runs; kill() it first`);
      running = await start();
    },
  };
  return broker;
}

/** Spawns the broker's JVM on an existing dataDir and waits until it answers. */
async function startJvm(
  classpath: string,
  access: BrokerAccess,
  clientPort: number,
  propertiesFile: string,
  options: BrokerOptions,
): Promise<{ pid: number; readyMs: number }> {
  const { dataDir } = access;
  const logFile = join(dataDir, 'broker.log');
  const logFd = openSync(logFile, 'a');
  const spawnedAt = Date.now();
  const child = spawn(
    'java',
    [
      `-Xms${options.minHeap ?? '256m'}`,
      `-Xmx${options.maxHeap ?? '768m'}`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      ...cdsFlags(join(dataDir, CDS_DUMP)),
      `-Dlog4j2.configurationFile=${join(here, 'log4j2-broker.properties')}`,
      `-Dkafka.logs.dir=${dataDir}`,
      '-cp',
      classpath,
      'kafka.Kafka',
      propertiesFile,
    ],
    { detached: options.detached ?? false, stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  // Never keep the caller's event loop alive; stop() or the owner's exit hook ends the JVM.
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('broker: java did not start (is a JDK on PATH?)');
  if (!options.detached) guardAgainstOrphan(process.pid, pid, dataDir);

  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
  child.once('error', (error) => (exited = `failed to spawn: ${error.message}`));

  try {
    await waitUntilReady({ ...access, pid }, clientPort, options.readyTimeoutMs ?? 120_000, () => exited);
  } catch (error) {
    const lastLines = tail(logFile, 40); // before the shutdown adds its own lines
    await terminate(pid, 0);
    throw new Error(`${(error as Error).message}\n--- last lines of ${logFile} ---\n${lastLines}`);
  }
  return { pid, readyMs: Date.now() - spawnedAt };
}

async function waitUntilReady(
  handle: BrokerHandle,
  clientPort: number,
  timeoutMs: number,
  exitReason: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const admin = new Kafka({
    clientId: 'lakehouse-broker-probe',
    brokers: [handle.bootstrap],
    ...kafkaJsSecurity(handle, 'admin'),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    retry: { retries: 0 },
  }).admin();
  let lastProblem = 'no TCP connection yet';
  try {
    while (Date.now() < deadline) {
      const reason = exitReason();
      if (reason) throw new Error(`broker ${reason} before it was ready`);
      if (await canConnect(clientPort)) {
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          if (cluster.brokers.some((broker) => broker.nodeId === 1)) return;
          lastProblem = `describeCluster listed no node 1: ${JSON.stringify(cluster.brokers)}`;
        } catch (error) {
          lastProblem = `describeCluster: ${(error as Error).message}`;
          await admin.disconnect().catch(() => undefined);
        }
      }
      await sleep(250);
    }
    throw new Error(`broker at ${handle.bootstrap} not ready after ${timeoutMs} ms (${lastProblem})`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Stops a broker started by any process (by pid + dataDir) and removes its dataDir. */
export async function stopBroker(handle: Pick<BrokerHandle, 'pid' | 'dataDir'>): Promise<void> {
  if (isBrokerProcess(handle.pid, handle.dataDir) && (await terminate(handle.pid, STOP_GRACE_MS))) {
    adoptArchive(join(handle.dataDir, CDS_DUMP));
  }
  rmSync(handle.dataDir, { recursive: true, force: true });
}

/** True when the broker described by handle is still running. */
export function brokerRunning(handle: Pick<BrokerHandle, 'pid' | 'dataDir'>): boolean {
  return isBrokerProcess(handle.pid, handle.dataDir);
}

// Kafka cluster ids are 16 random bytes in URL-safe base64; Kafka itself avoids a leading '-'
// because command-line parsers take it for an option.
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
