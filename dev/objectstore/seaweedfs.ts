// A real SeaweedFS (`weed mini`: master, volume, filer, S3 and an Iceberg REST catalog in one
// process) on loopback, with one S3 identity and a table bucket for the lake.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../broker/net.ts';
import { guardAgainstOrphan } from '../broker/orphan-guard.ts';
import { lakehouseCache } from '../broker/paths.ts';
import { killNow, runsWith, terminate } from '../broker/process-control.ts';
import { connectCatalog } from './catalog-client.ts';
import { newCredentials, type S3Credentials, writeIdentityFile } from './credentials.ts';
import { seaweedfsBinary } from './installers.ts';
import { s3Client } from './s3.ts';
import { type CatalogSettings, S3_REGION } from './settings.ts';

/** Every port `weed mini` opens. Each is set: a gRPC port left out is its HTTP port + 10000, and the admin server's default ports are fixed, so two stores would collide. */
const PORT_NAMES = [
  'master',
  'masterGrpc',
  'volume',
  'volumeGrpc',
  'filer',
  'filerGrpc',
  's3',
  's3Grpc',
  'iceberg',
  'admin',
  'adminGrpc',
] as const;
export type SeaweedPorts = Readonly<Record<(typeof PORT_NAMES)[number], number>>;

/** What identifies a running store: enough for a client to reach it, and for any process to stop it. */
export interface ObjectStoreHandle {
  readonly pid: number;
  /** The store's own directory: data/, logs/, the identity file, stdout.log and stderr.log; removed by stop. */
  readonly dir: string;
  readonly ports: SeaweedPorts;
  readonly credentials: S3Credentials;
  /** The S3 Tables bucket that is the Iceberg catalog's warehouse. */
  readonly tableBucket: string;
}

export interface ObjectStore extends ObjectStoreHandle {
  /** Milliseconds from spawning weed to the store answering S3 and catalog requests. */
  readonly readyMs: number;
  /** SIGTERM, SIGKILL after a bound, then removes dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface ObjectStoreOptions {
  /** Runs weed in its own session so that it outlives this process. Default false: a watchdog kills it (and removes its dir) if this process dies without stop(). */
  readonly detached?: boolean;
  /** Default "lakehouse". */
  readonly tableBucket?: string;
  /** Default: a new random pair. */
  readonly credentials?: S3Credentials;
  /** Default 60 s. */
  readonly readyTimeoutMs?: number;
}

// The last of weed mini's start-up lines; the buckets asked for exist by then.
const BANNER = 'All enabled components are running and ready to use';
// A graceful stop takes about 4 s.
const STOP_GRACE_MS = 20_000;

/** Where stores keep their directories: ${LAKEHOUSE_CACHE}/objectstore/<id>/. */
export function objectStoresDir(): string {
  return path.join(lakehouseCache(), 'objectstore');
}

export async function startObjectStore(options: ObjectStoreOptions = {}): Promise<ObjectStore> {
  const tableBucket = options.tableBucket ?? 'lakehouse';
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(tableBucket))
    throw new Error(
      `startObjectStore: tableBucket must be 3-63 lowercase letters, digits or dashes, got "${tableBucket}"`,
    );
  const weed = await seaweedfsBinary();
  mkdirSync(objectStoresDir(), { recursive: true });
  // A directory per store: weed mini saves its flags in data/mini.options and reads them back on
  // the next start, so a reused directory would bring back another store's ports and identity file.
  const dir = mkdtempSync(path.join(objectStoresDir(), 'weed-'));
  try {
    return await launch(weed, dir, tableBucket, options);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(
  weed: string,
  dir: string,
  tableBucket: string,
  options: ObjectStoreOptions,
): Promise<ObjectStore> {
  const ports = await freePorts();
  const credentials = options.credentials ?? newCredentials();
  const identityFile = path.join(dir, 's3.json');
  writeIdentityFile(identityFile, credentials);
  mkdirSync(path.join(dir, 'logs'));
  const stdoutFile = path.join(dir, 'stdout.log');
  const stdout = openSync(stdoutFile, 'a');
  const stderr = openSync(path.join(dir, 'stderr.log'), 'a');
  const spawnedAt = Date.now();
  const child = spawn(weed, weedArguments(dir, ports, identityFile, tableBucket), {
    detached: options.detached ?? false,
    stdio: ['ignore', stdout, stderr],
  });
  closeSync(stdout);
  closeSync(stderr);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`objectstore: ${weed} did not start`);
  if (!options.detached) guardAgainstOrphan(process.pid, pid, dir, ...socketFiles(ports));
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
  child.once('error', (error) => (exited = `failed to spawn: ${error.message}`));

  const handle: ObjectStoreHandle = { pid, dir, ports, credentials, tableBucket };
  try {
    await waitUntilReady(handle, options.readyTimeoutMs ?? 60_000, () => exited);
  } catch (error) {
    const lastLines = [tail(stdoutFile), tail(path.join(dir, 'stderr.log'))].join('\n');
    await terminate(pid, 0);
    throw new Error(
      `${(error as Error).message}\n--- last lines of ${dir}/stdout.log and stderr.log ---\n${lastLines}`,
    );
  }
  const readyMs = Date.now() - spawnedAt;
  let stopping: Promise<void> | undefined;
  return { ...handle, readyMs, stop: () => (stopping ??= stopObjectStore(handle)) };
}

function weedArguments(dir: string, ports: SeaweedPorts, identityFile: string, tableBucket: string): string[] {
  return [
    // glog's flags come before the subcommand: the full logs go to files, stdout keeps the progress lines.
    `-logdir=${path.join(dir, 'logs')}`,
    '-alsologtostderr=false',
    'mini',
    `-dir=${path.join(dir, 'data')}`,
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-master.port=${ports.master}`,
    `-master.port.grpc=${ports.masterGrpc}`,
    `-volume.port=${ports.volume}`,
    `-volume.port.grpc=${ports.volumeGrpc}`,
    `-filer.port=${ports.filer}`,
    `-filer.port.grpc=${ports.filerGrpc}`,
    `-s3.port=${ports.s3}`,
    `-s3.port.grpc=${ports.s3Grpc}`,
    `-s3.port.iceberg=${ports.iceberg}`,
    '-s3.port.lance=0',
    // -admin.ui=false only hides the UI: the admin server and its worker still listen.
    `-admin.port=${ports.admin}`,
    `-admin.port.grpc=${ports.adminGrpc}`,
    '-admin.ui=false',
    '-webdav=false',
    // On by default, posting to the project's telemetry server.
    '-master.telemetry=false',
    `-s3.config=${identityFile}`,
    `-tableBucket=${tableBucket}`,
  ];
}

async function freePorts(): Promise<SeaweedPorts> {
  const taken = new Set<number>();
  while (taken.size < PORT_NAMES.length) taken.add(await freePort());
  const values = [...taken];
  return Object.fromEntries(PORT_NAMES.map((name, i) => [name, values[i]])) as unknown as SeaweedPorts;
}

/** The settings a client of this store uses (`npm run objectstore -- start` prints them). */
export function objectStoreSettings(handle: ObjectStoreHandle): CatalogSettings {
  const { accessKeyId, secretAccessKey } = handle.credentials;
  return {
    LAKEHOUSE_CATALOG: 'rest',
    LAKEHOUSE_CATALOG_URI: `http://127.0.0.1:${handle.ports.iceberg}`,
    LAKEHOUSE_CATALOG_WAREHOUSE: `s3://${handle.tableBucket}`,
    LAKEHOUSE_CATALOG_CREDENTIAL: `${accessKeyId}:${secretAccessKey}`,
    LAKEHOUSE_S3_ENDPOINT: `http://127.0.0.1:${handle.ports.s3}`,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_REGION: S3_REGION,
  };
}

/**
 * Ready means: the banner is out (the table bucket exists), S3 lists buckets, the catalog lists the
 * warehouse's namespaces (it answers 500 for a moment after its port opens), and the master knows
 * every volume on disk (after a restart on old data, reads fail with 500 until it does).
 */
async function waitUntilReady(
  handle: ObjectStoreHandle,
  timeoutMs: number,
  exitReason: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const settings = objectStoreSettings(handle);
  let lastProblem = `no "${BANNER}" line in stdout.log yet`;
  while (Date.now() < deadline) {
    const reason = exitReason();
    if (reason) throw new Error(`objectstore: weed ${reason} before it was ready`);
    if (readFileSync(path.join(handle.dir, 'stdout.log'), 'utf8').includes(BANNER)) {
      try {
        const s3 = await s3Client(settings).fetch(`${settings.LAKEHOUSE_S3_ENDPOINT}/`);
        await s3.arrayBuffer();
        if (!s3.ok) throw new Error(`S3 ListBuckets: HTTP ${s3.status}`);
        const namespaces = await (await connectCatalog(settings)).request('GET', 'namespaces');
        if (namespaces.status !== 200)
          throw new Error(`catalog GET namespaces: HTTP ${namespaces.status} ${namespaces.text.slice(0, 200)}`);
        await allVolumesKnown(handle);
        return;
      } catch (error) {
        lastProblem = (error as Error).message;
      }
    }
    await sleep(100);
  }
  throw new Error(`objectstore: not ready after ${timeoutMs} ms (${lastProblem})`);
}

async function allVolumesKnown(handle: ObjectStoreHandle): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${handle.ports.master}/dir/status`);
  const status = (await response.json()) as { Topology?: { Max?: number; Free?: number } };
  const known = (status.Topology?.Max ?? 0) - (status.Topology?.Free ?? 0);
  const onDisk = readdirSync(path.join(handle.dir, 'data')).filter((name) => name.endsWith('.dat')).length;
  if (known < onDisk) throw new Error(`the master knows ${known} of the ${onDisk} volumes on disk`);
}

/** True when the store described by handle is still running. */
export function objectStoreRunning(handle: Pick<ObjectStoreHandle, 'pid' | 'dir'>): boolean {
  const dataDir = `-dir=${path.join(handle.dir, 'data')}`;
  return runsWith(handle.pid, (args) => args.includes('mini') && args.includes(dataDir));
}

/** Stops a store started by any process (by pid and dir) and removes its dir and sockets. */
export async function stopObjectStore(handle: Pick<ObjectStoreHandle, 'pid' | 'dir' | 'ports'>): Promise<void> {
  if (objectStoreRunning(handle)) await terminate(handle.pid, STOP_GRACE_MS);
  rmSync(handle.dir, { recursive: true, force: true });
  for (const file of socketFiles(handle.ports)) rmSync(file, { force: true });
}

/** Synchronous SIGKILL and removal, for process 'exit' handlers (nothing asynchronous runs there). */
export function killObjectStoreNow(handle: Pick<ObjectStoreHandle, 'pid' | 'dir' | 'ports'>): void {
  if (objectStoreRunning(handle)) killNow(handle.pid);
  rmSync(handle.dir, { recursive: true, force: true });
  for (const file of socketFiles(handle.ports)) rmSync(file, { force: true });
}

/** The Unix sockets weed makes beside its ports, in /tmp whatever TMPDIR says; some outlive it. */
function socketFiles(ports: SeaweedPorts): string[] {
  return [
    `seaweedfs-master-grpc-${ports.masterGrpc}.sock`,
    `seaweedfs-volume-grpc-${ports.volumeGrpc}.sock`,
    `seaweedfs-filer-grpc-${ports.filerGrpc}.sock`,
    `seaweedfs-filer-${ports.filer}.sock`,
    `seaweedfs-s3-grpc-${ports.s3Grpc}.sock`,
    `seaweedfs-s3-${ports.s3}.sock`,
    `seaweedfs-admin-grpc-${ports.adminGrpc}.sock`,
  ].map((name) => path.join('/tmp', name));
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}
