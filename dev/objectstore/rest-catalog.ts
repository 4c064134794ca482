// Apache Iceberg's REST catalog server (the reference implementation: a JdbcCatalog on H2 behind
// Iceberg's RESTCatalogServlet, rest-catalog/RestCatalogLauncher.java) on loopback, keeping its
// tables on S3 through S3FileIO. A second catalog beside SeaweedFS's own, for what a REST client
// must do the same way against both.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { guardAgainstOrphan } from '../broker/orphan-guard.ts';
import { killNow, runsWith, terminate } from '../broker/process-control.ts';
import { restCatalogHome } from './installers.ts';
import type { S3Access } from './s3.ts';
import { objectStoresDir } from './seaweedfs.ts';
import type { CatalogSettings } from './settings.ts';

export interface RestCatalogOptions {
  /** The S3 storage the catalog writes table metadata to (and its clients the data files). */
  readonly s3: S3Access;
  /** The warehouse location, `s3://bucket/prefix`; the bucket must exist. */
  readonly warehouse: string;
  /** Default false: a watchdog kills the server (and removes its dir) if this process dies without stop(). */
  readonly detached?: boolean;
  /** Default 60 s. */
  readonly readyTimeoutMs?: number;
}

export interface RestCatalog {
  readonly pid: number;
  /** catalog.properties, the H2 database and server.log; removed by stop. */
  readonly dir: string;
  /** Its clients' settings; the catalog asks for no credential. */
  readonly settings: CatalogSettings;
  /** Milliseconds from spawning java to /v1/config answering. */
  readonly readyMs: number;
  /** SIGTERM, SIGKILL after a bound, then removes dir. Safe to call twice. */
  stop(): Promise<void>;
}

const LAUNCHER = 'RestCatalogLauncher';
const LISTENING = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m;

export async function startRestCatalog(options: RestCatalogOptions): Promise<RestCatalog> {
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]+[a-z0-9](\/.*)?$/.test(options.warehouse))
    throw new Error(`startRestCatalog: warehouse must be s3://bucket[/prefix], got "${options.warehouse}"`);
  const home = await restCatalogHome();
  mkdirSync(objectStoresDir(), { recursive: true });
  const dir = mkdtempSync(path.join(objectStoresDir(), 'rest-catalog-'));
  try {
    return await launch(home, dir, options);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(home: string, dir: string, options: RestCatalogOptions): Promise<RestCatalog> {
  const propertiesFile = path.join(dir, 'catalog.properties');
  writeFileSync(propertiesFile, catalogProperties(dir, options), { mode: 0o600 });
  const logFile = path.join(dir, 'server.log');
  const log = openSync(logFile, 'a');
  const spawnedAt = Date.now();
  const child = spawn(
    'java',
    [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      // C1 only: the server handles a test's few requests; full JIT would cost start-up for nothing.
      '-XX:TieredStopAtLevel=1',
      '-XX:+ExitOnOutOfMemoryError',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      `${path.join(home, 'classes')}${path.delimiter}${path.join(home, 'libs', '*')}`,
      LAUNCHER,
      propertiesFile,
    ],
    { detached: options.detached ?? false, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('rest catalog: java did not start (is a JDK on PATH?)');
  if (!options.detached) guardAgainstOrphan(process.pid, pid, dir);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
  child.once('error', (error) => (exited = `failed to spawn: ${error.message}`));

  let uri: string;
  try {
    uri = await waitUntilReady(logFile, options.readyTimeoutMs ?? 60_000, () => exited);
  } catch (error) {
    const lastLines = tail(logFile);
    await terminate(pid, 0);
    throw new Error(`${(error as Error).message}\n--- last lines of ${logFile} ---\n${lastLines}`);
  }
  const readyMs = Date.now() - spawnedAt;
  const { s3 } = options;
  const settings: CatalogSettings = {
    LAKEHOUSE_CATALOG: 'rest',
    LAKEHOUSE_CATALOG_URI: uri,
    LAKEHOUSE_CATALOG_WAREHOUSE: options.warehouse,
    LAKEHOUSE_S3_ENDPOINT: s3.LAKEHOUSE_S3_ENDPOINT,
    AWS_ACCESS_KEY_ID: s3.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: s3.AWS_SECRET_ACCESS_KEY,
    AWS_REGION: s3.AWS_REGION,
  };
  let stopping: Promise<void> | undefined;
  return { pid, dir, settings, readyMs, stop: () => (stopping ??= stopRestCatalog({ pid, dir })) };
}

/** The launcher's properties: where it listens (rest.*) and the catalog's own configuration. */
function catalogProperties(dir: string, { s3, warehouse }: RestCatalogOptions): string {
  const properties: Record<string, string> = {
    'rest.host': '127.0.0.1',
    'rest.port': '0',
    'catalog-impl': 'org.apache.iceberg.jdbc.JdbcCatalog',
    uri: `jdbc:h2:file:${path.join(dir, 'catalog')};DB_CLOSE_DELAY=-1`,
    // V1 also stores views; V0 (the default) only tables.
    'jdbc.schema-version': 'V1',
    warehouse,
    'io-impl': 'org.apache.iceberg.aws.s3.S3FileIO',
    's3.endpoint': s3.LAKEHOUSE_S3_ENDPOINT,
    's3.path-style-access': 'true',
    's3.access-key-id': s3.AWS_ACCESS_KEY_ID,
    's3.secret-access-key': s3.AWS_SECRET_ACCESS_KEY,
    'client.region': s3.AWS_REGION,
  };
  const escaped = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/^\s/, '\\$&');
  return Object.entries(properties)
    .map(([name, value]) => `${name}=${escaped(value)}\n`)
    .join('');
}

async function waitUntilReady(
  logFile: string,
  timeoutMs: number,
  exitReason: () => string | undefined,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no "listening on" line yet';
  while (Date.now() < deadline) {
    const reason = exitReason();
    if (reason) throw new Error(`rest catalog: java ${reason} before it was ready`);
    const uri = LISTENING.exec(readFileSync(logFile, 'utf8'))?.[1];
    if (uri) {
      try {
        const response = await fetch(`${uri}/v1/config`);
        await response.arrayBuffer();
        if (response.ok) return uri;
        lastProblem = `${uri}/v1/config: HTTP ${response.status}`;
      } catch (error) {
        lastProblem = `${uri}/v1/config: ${(error as Error).message}`;
      }
    }
    await sleep(100);
  }
  throw new Error(`rest catalog: not ready after ${timeoutMs} ms (${lastProblem})`);
}

/** True when the server described by handle is still running. */
export function restCatalogRunning(handle: { readonly pid: number; readonly dir: string }): boolean {
  const propertiesFile = path.join(handle.dir, 'catalog.properties');
  return runsWith(handle.pid, (args) => args.includes(LAUNCHER) && args.includes(propertiesFile));
}

export async function stopRestCatalog(handle: { readonly pid: number; readonly dir: string }): Promise<void> {
  if (restCatalogRunning(handle)) await terminate(handle.pid, 10_000);
  rmSync(handle.dir, { recursive: true, force: true });
}

/** Synchronous SIGKILL and removal, for process 'exit' handlers (nothing asynchronous runs there). */
export function killRestCatalogNow(handle: { readonly pid: number; readonly dir: string }): void {
  if (restCatalogRunning(handle)) killNow(handle.pid);
  rmSync(handle.dir, { recursive: true, force: true });
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}
