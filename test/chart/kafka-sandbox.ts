// Runs inside `unshare --net --mount --uts` (see kafka-sandbox-run.ts): a private loopback network,
// a private /etc (overlay) whose hosts file gives the chart's pod and Service names, and the
// hostname of the pod being run. There the chart's Kafka container runs its rendered command and
// environment. apache/kafka's entry point, /etc/kafka/docker/run, is stood in for by the same
// steps the image takes, on the jars of the same Kafka release: kafka.docker.KafkaDockerWrapper
// turns the KAFKA_* variables into server.properties and formats the log dirs, then kafka.Kafka
// starts. In "serve" mode the chart's hook Jobs and test Pod then run against that broker, with
// the Kafka address exactly as rendered.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newCluster, provideClaim, runContainer } from './container.ts';
import type { KafkaPod } from './kafka-pod.ts';
import type { RenderedObject } from './rendered.ts';

export interface SandboxInput {
  readonly mode: 'format' | 'serve';
  readonly root: string;
  readonly kafkaLibs: string;
  readonly log4jConfig: string;
  readonly pods: readonly KafkaPod[];
  readonly hostNames: readonly string[];
  /** serve mode: every rendered object, and the pods to run after Kafka is up, in order. */
  readonly objects?: readonly RenderedObject[];
  readonly runOrder?: readonly string[];
}

export interface SandboxResult {
  readonly formatted: { pod: string; exitCode: number | null; output: string; serverProperties: string }[];
  readonly runs: { name: string; exitCode: number | null; output: string }[];
}

const IMAGE_RUN = `#!/usr/bin/env bash
# Stands in for apache/kafka's /etc/kafka/docker/run (docker/jvm/launch): the image's own setup
# step, then the broker, from the jars of the same Kafka release.
set -euo pipefail
# As the image does, a storage formatted already (by the chart's own start script) is no failure.
if ! output=$(java -Xmx256m -Dlog4j2.configurationFile="$LAKEHOUSE_TEST_LOG4J" -cp "$LAKEHOUSE_TEST_LIBS/*" \\
  kafka.docker.KafkaDockerWrapper setup \\
  --default-configs-dir "$LAKEHOUSE_TEST_DEFAULTS" --mounted-configs-dir "$LAKEHOUSE_TEST_MOUNTED" \\
  --final-configs-dir "$LAKEHOUSE_TEST_CONFIG_DIR" 2>&1); then
  grep -qi "already formatted" <<<"$output" || { echo "$output" >&2; exit 1; }
fi
echo "$output"
if [[ "\${LAKEHOUSE_TEST_SETUP_ONLY:-}" == 1 ]]; then exit 0; fi
exec java \${KAFKA_HEAP_OPTS:-} -Dlog4j2.configurationFile="$LAKEHOUSE_TEST_LOG4J" -cp "$LAKEHOUSE_TEST_LIBS/*" \\
  kafka.Kafka "$LAKEHOUSE_TEST_CONFIG_DIR/server.properties"
`;

/** The image's /opt/kafka/bin/kafka-storage.sh, on the same jars. */
const STORAGE_TOOL = `#!/usr/bin/env bash
exec java -Xmx256m -Dlog4j2.configurationFile="$LAKEHOUSE_TEST_LOG4J" -cp "$LAKEHOUSE_TEST_LIBS/*" kafka.tools.StorageTool "$@"
`;

const LOG4J2_YAML = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
`;

function prepareNamespace(input: SandboxInput): { defaults: string; mounted: string } {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const upper = path.join(input.root, 'etc-upper');
  const work = path.join(input.root, 'etc-work');
  mkdirSync(upper, { recursive: true });
  mkdirSync(work, { recursive: true });
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=/etc,upperdir=${upper},workdir=${work}`, '/etc']);
  writeFileSync('/etc/hosts', `127.0.0.1 localhost ${input.hostNames.join(' ')}\n`);
  // The image's tools directory, on a private tmpfs over /opt.
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/opt']);
  mkdirSync('/opt/kafka/bin', { recursive: true });
  writeFileSync('/opt/kafka/bin/kafka-storage.sh', STORAGE_TOOL, { mode: 0o755 });
  mkdirSync('/etc/kafka/docker', { recursive: true });
  writeFileSync('/etc/kafka/docker/run', IMAGE_RUN, { mode: 0o755 });
  const defaults = path.join(input.root, 'image-defaults');
  const mounted = path.join(input.root, 'image-mounted');
  mkdirSync(defaults, { recursive: true });
  mkdirSync(mounted, { recursive: true });
  for (const file of ['log4j2.yaml', 'tools-log4j2.yaml']) writeFileSync(path.join(defaults, file), LOG4J2_YAML);
  writeFileSync(
    path.join(defaults, 'server.properties'),
    "# the image's defaults; unused when KAFKA_* variables are set\n",
  );
  return { defaults, mounted };
}

/** Local directories for the pod's volumes, and its environment with mount paths mapped onto them. */
function podProcess(
  input: SandboxInput,
  pod: KafkaPod,
  image: { defaults: string; mounted: string },
  setupOnly: boolean,
) {
  const dirs = new Map<string, string>();
  for (const [mountPath, volume] of Object.entries(pod.mounts)) {
    // Secret volumes are files at the path the container sees (below), not mapped directories.
    if (Object.keys(pod.secretFiles).some((file) => file.startsWith(`${mountPath}/`))) continue;
    const dir = path.join(input.root, pod.name, volume);
    mkdirSync(dir, { recursive: true });
    dirs.set(mountPath, dir);
  }
  const mapped = (value: string) => {
    for (const [mountPath, dir] of dirs) {
      if (value === mountPath) return dir;
      if (value.startsWith(`${mountPath}/`)) return path.join(dir, value.slice(mountPath.length + 1));
    }
    return value;
  };
  const configDir = dirs.get('/opt/kafka/config');
  if (!configDir)
    throw new Error(
      `${pod.name}: /opt/kafka/config, where the image writes server.properties, is not a writable volume`,
    );
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LAKEHOUSE_TEST_LIBS: input.kafkaLibs,
    LAKEHOUSE_TEST_LOG4J: input.log4jConfig,
    LAKEHOUSE_TEST_DEFAULTS: image.defaults,
    LAKEHOUSE_TEST_MOUNTED: image.mounted,
    LAKEHOUSE_TEST_CONFIG_DIR: configDir,
    ...(setupOnly ? { LAKEHOUSE_TEST_SETUP_ONLY: '1' } : {}),
  };
  for (const [name, value] of Object.entries(pod.env)) env[name] = mapped(value);
  // Secret volumes are read at the path the container sees; only the private /etc can take them.
  for (const [file, content] of Object.entries(pod.secretFiles)) {
    if (!file.startsWith('/etc/'))
      throw new Error(`${pod.name}: the sandbox can mount a Secret only under /etc, not at ${file}`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content, { mode: 0o400 });
  }
  execFileSync('hostname', [pod.name]);
  const [program, ...args] = pod.argv;
  const child = spawn(program!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  return { child, configDir, output: () => output };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('close', resolve)));

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return true;
    await sleep(500);
  }
  return false;
}

async function main(): Promise<void> {
  const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SandboxInput;
  const image = prepareNamespace(input);
  const result: SandboxResult = { formatted: [], runs: [] };
  if (input.mode === 'format') {
    for (const pod of input.pods) {
      const run = podProcess(input, pod, image, true);
      const exitCode = await exited(run.child);
      const file = path.join(run.configDir, 'server.properties');
      let serverProperties = '';
      try {
        serverProperties = readFileSync(file, 'utf8');
      } catch {}
      result.formatted.push({ pod: pod.name, exitCode, output: run.output(), serverProperties });
    }
  } else {
    if (input.pods.length !== 1) throw new Error('serve mode runs a single Kafka node');
    const run = podProcess(input, input.pods[0]!, image, false);
    const up = await waitForPort(9092, run.child, 120_000);
    if (!up) {
      result.runs.push({ name: input.pods[0]!.name, exitCode: run.child.exitCode, output: run.output() });
    } else {
      const objects = input.objects ?? [];
      const addresses = new Map(
        objects
          .flatMap((o) => (o.spec?.template?.spec ?? o.spec)?.containers ?? [])
          .flatMap((c: any) => c.env ?? [])
          .filter((e: any) => e.name === 'KAFKA_BOOTSTRAP_SERVER')
          .flatMap((e: any) => String(e.value).split(','))
          .map((a: string) => [a, a] as const),
      );
      const cluster = newCluster(objects, addresses);
      for (const claim of objects.filter((o) => o.kind === 'PersistentVolumeClaim'))
        provideClaim(cluster, claim.metadata.name);
      for (const name of input.runOrder ?? []) {
        const pod = objects.find((o) => o.metadata.name === name && (o.kind === 'Job' || o.kind === 'Pod'))!;
        const r = await runContainer(cluster, pod, 180_000);
        result.runs.push({ name, exitCode: r.exitCode, output: r.output.slice(-4000) });
        if (r.exitCode !== 0) break;
      }
    }
    run.child.kill('SIGTERM');
    const stopped = await Promise.race([exited(run.child), sleep(30_000).then(() => 'timeout' as const)]);
    if (stopped === 'timeout') run.child.kill('SIGKILL');
  }
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
