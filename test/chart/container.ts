// Runs a rendered container the way the kubelet would, on this machine: each volume mount becomes a
// local directory (a ConfigMap's data written out, the lake claim shared between pods, an emptyDir
// fresh), paths in the command and the environment are mapped onto them, a secretKeyRef reads the
// Secret's key, and the Kafka address and the object store's URLs are swapped for local servers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RenderedObject } from './rendered.ts';

export interface Cluster {
  /** Rendered ConfigMaps by name. */
  readonly configMaps: ReadonlyMap<string, RenderedObject>;
  /** Local directory standing for each PersistentVolumeClaim, by claim name. */
  readonly claims: Map<string, string>;
  /** `host:port` of the rendered Kafka address -> local broker `host:port`. */
  readonly kafka: ReadonlyMap<string, string>;
  /** Secret name -> its files (key -> content): the rendered Secrets, or what a test gives instead. */
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** A rendered URL (the object store's catalog and S3 Services) -> the local server's. */
  readonly urls: ReadonlyMap<string, string>;
  readonly root: string;
}

/** The settings holding an address of the object store, swapped for the local one's. */
const URL_SETTINGS = ['LAKEHOUSE_CATALOG_URI', 'LAKEHOUSE_S3_ENDPOINT'];

export interface ContainerRun {
  readonly exitCode: number | null;
  readonly output: string;
  readonly argv: readonly string[];
}

/**
 * `secrets` stands in for Secrets the chart does not render (existing ones) or replaces rendered
 * ones (e.g. a local broker's CA and passwords instead of the chart's generated ones).
 */
export function newCluster(
  objects: readonly RenderedObject[],
  kafka: ReadonlyMap<string, string>,
  secrets: ReadonlyMap<string, Readonly<Record<string, string>>> = new Map(),
  urls: ReadonlyMap<string, string> = new Map(),
): Cluster {
  const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o]));
  const rendered = objects
    .filter((o) => o.kind === 'Secret')
    .map(
      (o) =>
        [
          o.metadata.name,
          Object.fromEntries(
            Object.entries(o.data ?? {}).map(([k, b64]) => [k, Buffer.from(b64, 'base64').toString('utf8')]),
          ),
        ] as const,
    );
  return {
    configMaps,
    claims: new Map(),
    kafka,
    secrets: new Map([...rendered, ...secrets]),
    urls,
    root: mkdtempSync(path.join(os.tmpdir(), 'lakehouse-cluster-')),
  };
}

function volumeDir(cluster: Cluster, pod: string, volume: any): string {
  if (volume.persistentVolumeClaim) {
    const claim: string = volume.persistentVolumeClaim.claimName;
    if (!cluster.claims.has(claim))
      throw new Error(`${pod}: volume ${volume.name} uses claim ${claim}, which the chart does not create`);
    return cluster.claims.get(claim)!;
  }
  const dir = mkdtempSync(path.join(cluster.root, `${pod}-${volume.name}-`));
  if (volume.configMap) {
    const configMap = cluster.configMaps.get(volume.configMap.name);
    if (!configMap)
      throw new Error(
        `${pod}: volume ${volume.name} uses ConfigMap ${volume.configMap.name}, which the chart does not create`,
      );
    for (const [key, content] of Object.entries(configMap.data ?? {})) writeFileSync(path.join(dir, key), content);
    for (const [key, content] of Object.entries(configMap.binaryData ?? {}))
      writeFileSync(path.join(dir, key), Buffer.from(content, 'base64'));
  } else if (volume.secret) {
    const secret = cluster.secrets.get(volume.secret.secretName);
    if (!secret)
      throw new Error(
        `${pod}: volume ${volume.name} uses Secret ${volume.secret.secretName}, which neither the chart nor the test provides`,
      );
    const items: { key: string; path: string }[] =
      volume.secret.items ?? Object.keys(secret).map((key) => ({ key, path: key }));
    for (const { key, path: file } of items) {
      if (!(key in secret)) throw new Error(`${pod}: Secret ${volume.secret.secretName} has no key ${key}`);
      writeFileSync(path.join(dir, file), secret[key]!, { mode: 0o400 });
    }
  } else if (!volume.emptyDir) {
    throw new Error(`${pod}: volume ${volume.name} is of a kind this test cannot provide`);
  }
  return dir;
}

/** Replaces a container path by the local directory of the mount holding it. */
const mapPath = (value: string, mounts: readonly [string, string][]): string => {
  for (const [mountPath, dir] of mounts) {
    if (value === mountPath) return dir;
    if (value.startsWith(`${mountPath}/`)) return path.join(dir, value.slice(mountPath.length + 1));
  }
  return value;
};

/** The pod spec of a Pod, a Job or a CronJob. */
export const podSpecOf = (object: RenderedObject): any =>
  object.kind === 'Pod' ? object.spec : (object.spec.jobTemplate?.spec ?? object.spec).template.spec;

/** Runs the object's one container to its end; `started` gets the process (to signal it, as the kubelet stops a pod). */
export async function runContainer(
  cluster: Cluster,
  object: RenderedObject,
  timeoutMs: number,
  started?: (child: ChildProcess) => void,
): Promise<ContainerRun> {
  const podSpec = podSpecOf(object);
  const [container, ...others] = podSpec.containers;
  if (others.length > 0 || podSpec.initContainers) throw new Error(`${object.metadata.name}: expected one container`);
  return runOne(cluster, object, container, timeoutMs, started);
}

/** Runs the pod's init containers in order, then its container, stopping at the first that fails (as the kubelet does). */
export async function runPod(
  cluster: Cluster,
  object: RenderedObject,
  timeoutMs: number,
  started?: (child: ChildProcess, container: string) => void,
): Promise<ContainerRun[]> {
  const podSpec = podSpecOf(object);
  if (podSpec.containers.length !== 1)
    throw new Error(`${object.metadata.name}: expected one container after the init containers`);
  const runs: ContainerRun[] = [];
  for (const container of [...(podSpec.initContainers ?? []), ...podSpec.containers]) {
    const run = await runOne(cluster, object, container, timeoutMs, (child) => started?.(child, container.name));
    runs.push(run);
    if (run.exitCode !== 0) break;
  }
  return runs;
}

async function runOne(
  cluster: Cluster,
  object: RenderedObject,
  container: any,
  timeoutMs: number,
  started?: (child: ChildProcess) => void,
): Promise<ContainerRun> {
  const podSpec = podSpecOf(object);
  const volumes = new Map<string, any>((podSpec.volumes ?? []).map((v: any) => [v.name, v]));
  const mounts: [string, string][] = (container.volumeMounts ?? []).map((m: any) => {
    const volume = volumes.get(m.name);
    if (!volume) throw new Error(`${object.metadata.name}: mount ${m.mountPath} names no volume`);
    return [m.mountPath, volumeDir(cluster, object.metadata.name, volume)];
  });
  mounts.sort(([a], [b]) => b.length - a.length);

  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: cluster.root };
  for (const e of container.env ?? []) {
    if (e.valueFrom && !e.valueFrom.secretKeyRef)
      throw new Error(`${object.metadata.name}: env ${e.name} uses valueFrom other than secretKeyRef`);
    let value: string = e.valueFrom
      ? secretValue(cluster, object, e.name, e.valueFrom.secretKeyRef)
      : mapPath(e.value ?? '', mounts);
    if (URL_SETTINGS.includes(e.name) && value !== '') {
      const local = cluster.urls.get(value);
      if (!local) throw new Error(`${object.metadata.name}: ${e.name} ${value} is no address the chart serves`);
      value = local;
    }
    if (e.name === 'KAFKA_BOOTSTRAP_SERVER') {
      value = value
        .split(',')
        .map((address) => {
          const local = cluster.kafka.get(address);
          if (!local)
            throw new Error(
              `${object.metadata.name}: KAFKA_BOOTSTRAP_SERVER ${address} is no Kafka address the chart serves`,
            );
          return local;
        })
        .join(',');
    }
    env[e.name] = value;
  }
  const [program, ...args] = [...(container.command ?? []), ...(container.args ?? [])].map((a: string) =>
    mapPath(a, mounts),
  );
  // The image's `node` is this machine's Node 22.
  const bin = program === 'node' ? process.execPath : program!;
  const argv = [bin, ...args];

  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, cwd: cluster.root, stdio: ['ignore', 'pipe', 'pipe'] });
    started?.(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output, argv });
    });
  });
}

function secretValue(
  cluster: Cluster,
  object: RenderedObject,
  env: string,
  ref: { name: string; key: string },
): string {
  const secret = cluster.secrets.get(ref.name);
  if (!secret)
    throw new Error(
      `${object.metadata.name}: env ${env} reads Secret ${ref.name}, which neither the chart nor the test provides`,
    );
  if (!(ref.key in secret))
    throw new Error(`${object.metadata.name}: env ${env}: Secret ${ref.name} has no key ${ref.key}`);
  return secret[ref.key]!;
}

export function provideClaim(cluster: Cluster, claimName: string): string {
  const dir = path.join(cluster.root, `claim-${claimName}`);
  mkdirSync(dir, { recursive: true });
  cluster.claims.set(claimName, dir);
  return dir;
}
