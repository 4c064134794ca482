/**
 * The metrics exporter as Prometheus meets it: `metrics` started as its own process, scraped over
 * HTTP, its text parsed strictly (every sample needs its HELP and TYPE lines).
 */
import fs from 'node:fs';
import net from 'node:net';
import * as assert from 'uvu/assert';
import { describeFailure, runJob, type JobOutcome } from './lake.ts';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Exporter {
  /** The exporter's process id. */
  readonly pid: number;
  /** GET `path`; `ms` is how long the answer took (Infinity when none came within `timeoutMs`). */
  get(path: string, timeoutMs?: number): Promise<{ status: number; type: string | null; text: string; ms: number }>;
  /** SIGTERM, then the process's outcome. */
  stop(): Promise<JobOutcome>;
}

/** Starts `metrics` as its own process with `env`; resolves once it serves. */
export async function startExporter(env: Record<string, string>): Promise<Exporter> {
  const port = await freePort();
  let pid = 0;
  let serving!: () => void;
  const ready = new Promise<void>((resolve) => (serving = resolve));
  const done = runJob('metrics', { ...env, LAKEHOUSE_METRICS_PORT: String(port) }, [], (line, child) => {
    pid = child.pid!;
    if (line.msg === 'serving metrics') serving();
  });
  await Promise.race([
    ready,
    done.then((o) => assert.unreachable(`metrics ended before serving: ${describeFailure(o)}`)),
  ]);
  return {
    pid,
    get: async (path, timeoutMs = 60_000) => {
      const started = performance.now();
      try {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
        const text = await response.text();
        return {
          status: response.status,
          type: response.headers.get('content-type'),
          text,
          ms: performance.now() - started,
        };
      } catch (error) {
        if ((error as Error).name !== 'TimeoutError') throw error;
        return { status: 0, type: null, text: '', ms: Infinity };
      }
    },
    stop: async () => {
      process.kill(pid, 'SIGTERM');
      return done;
    },
  };
}

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses Prometheus text format 0.0.4, failing on any sample whose metric has no TYPE (or HELP) line. */
export function parseMetrics(text: string): Sample[] {
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        assert.ok(['gauge', 'counter'].includes(meta[3]), line);
        types.set(meta[2], meta[3]);
      } else helped.add(meta[2]);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(sample, `not a sample line: ${line}`);
    const [, name, labelText, value] = sample!;
    assert.ok(types.has(name), `${name} has no TYPE line`);
    assert.ok(helped.has(name), `${name} has no HELP line`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key] = raw;
    const number = value === '+Inf' ? Infinity : Number(value);
    assert.ok(!Number.isNaN(number), `${line}: value`);
    samples.push({ name, labels, value: number });
  }
  return samples;
}

export const sampleOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/**
 * Scrapes every half second until `done` holds (the exporter reads the lake and Kafka in the
 * background, a few seconds apart), failing after `timeoutMs`; the samples of the last scrape.
 */
export async function scrapeUntil(
  exporter: Exporter,
  done: (samples: Sample[]) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<Sample[]> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const samples = parseMetrics((await exporter.get('/metrics')).text);
    if (done(samples)) return samples;
    if (Date.now() > deadline) assert.unreachable(`${what}: not within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * The TCP sockets process `pid` holds whose remote end is port `port`, as the kernel lists them
 * (`/proc/<pid>/net/tcp*` matched to the socket inodes among `/proc/<pid>/fd`): what the process
 * really has open, whatever its own bookkeeping says.
 */
export function connectionsTo(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed between the listing and the read
    }
  }
  let count = 0;
  for (const table of ['tcp', 'tcp6']) {
    const text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length < 10) continue;
      const remotePort = Number.parseInt(columns[2].split(':')[1], 16);
      if (remotePort === port && inodes.has(columns[9])) count++;
    }
  }
  return count;
}
