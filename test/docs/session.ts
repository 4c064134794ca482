/**
 * A person's shell on a fresh checkout, for running the documentation's commands as written: a
 * copy of the repository's files as they are now (what git tracks or would, uncommitted changes
 * included; `npm ci`'s node_modules linked), a tool cache of its own (links to the tools of this
 * machine's cache; its own broker and object store records), and an environment without this
 * process's Kafka, lake and object store settings. Each command runs in bash there; what it exports stays in the session for the
 * commands after it, as in one shell.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEV_BROKER_ENV } from '../../dev/broker/clients.ts';
import { lakehouseCache } from '../../dev/broker/paths.ts';
import { SETTING_NAMES } from '../../dev/objectstore/settings.ts';

export interface ShellRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

export interface RunOptions {
  /** Variables for this command only (a person's `NAME=value command`), not kept in the session. */
  readonly env?: Readonly<Record<string, string>>;
  /** The command is killed (its whole process group) after this long; the run then fails. */
  readonly timeoutMs: number;
  /**
   * Ctrl-C: once a line of stdout passes this test, SIGINT goes to the command's process group (as
   * a terminal sends it), `interruptAfterMs` later.
   */
  readonly interruptWhen?: (line: string) => boolean;
  readonly interruptAfterMs?: number;
}

// What the cache holds of the servers a person starts: each session keeps its own.
const OWN_STATE = new Set(['broker-state.json', 'objectstore-state.json', 'objectstore']);

// What bash itself sets; not exported by the command.
const SHELL_OWN = new Set(['_', 'SHLVL', 'PWD', 'OLDPWD']);

export class Session {
  readonly dir: string;
  readonly cache: string;
  env: Record<string, string>;
  private readonly running = new Set<number>();

  constructor(repoRoot: string) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-checkout-'));
    copyCheckout(repoRoot, this.dir);
    this.cache = mkdtempSync(path.join(tmpdir(), 'lakehouse-cache-'));
    const tools = lakehouseCache();
    for (const name of readdirSync(tools))
      if (!OWN_STATE.has(name)) symlinkSync(path.join(tools, name), path.join(this.cache, name));
    this.env = Object.fromEntries(
      Object.entries(process.env).filter(
        (entry): entry is [string, string] =>
          entry[1] !== undefined &&
          !entry[0].startsWith('LAKEHOUSE_') &&
          entry[0] !== 'KAFKA_BOOTSTRAP_SERVER' &&
          entry[0] !== DEV_BROKER_ENV &&
          !(SETTING_NAMES as readonly string[]).includes(entry[0]),
      ),
    );
    this.env.LAKEHOUSE_CACHE = this.cache;
    process.once('exit', () => this.killRunning());
  }

  /** Runs `command` in bash in the session's directory and environment; keeps what it exports. */
  run(command: string, { env = {}, timeoutMs, interruptWhen, interruptAfterMs = 0 }: RunOptions): Promise<ShellRun> {
    const envFile = path.join(this.cache, `env-after-${Date.now()}`);
    const script = `${command}\n__status=$?\nenv -0 > '${envFile}'\nexit $__status`;
    const given = { ...this.env, ...env };
    const started = performance.now();
    return new Promise((resolve, reject) => {
      // Its own process group: the group is what Ctrl-C and a timeout stop.
      const child = spawn('bash', ['-c', script], { cwd: this.dir, env: given, detached: true, stdio: 'pipe' });
      const pid = child.pid!;
      this.running.add(pid);
      let stdout = '';
      let stderr = '';
      let pending = '';
      let interrupt: NodeJS.Timeout | undefined;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        signalGroup(pid, 'SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
        if (!interruptWhen || interrupt) return;
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop()!;
        if (lines.some((line) => interruptWhen(line)))
          interrupt = setTimeout(() => signalGroup(pid, 'SIGINT'), interruptAfterMs);
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        clearTimeout(interrupt);
        this.running.delete(pid);
        const seconds = (performance.now() - started) / 1000;
        if (timedOut) {
          reject(new Error(`\`${command}\` did not end within ${timeoutMs / 1000} s\n${tail(stdout, stderr)}`));
          return;
        }
        this.keepExports(envFile, given);
        resolve({ exitCode: code ?? 1, stdout, stderr, seconds });
      });
    });
  }

  /** What the command changed in its environment becomes the session's. */
  private keepExports(envFile: string, given: Record<string, string>): void {
    let dump: string;
    try {
      dump = readFileSync(envFile, 'utf8');
    } catch {
      return; // the command ended the shell itself (`exit`)
    }
    rmSync(envFile, { force: true });
    const after = new Map(
      dump
        .split('\0')
        .filter(Boolean)
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const)
        .filter(([name]) => !SHELL_OWN.has(name)),
    );
    for (const [name, value] of after) if (given[name] !== value) this.env[name] = value;
    for (const name of Object.keys(given)) if (!after.has(name)) delete this.env[name];
  }

  private killRunning(): void {
    for (const pid of this.running) signalGroup(pid, 'SIGKILL');
  }

  /** Removes the checkout (and the lakes the commands wrote in it) and the cache's own files; the linked tools stay. */
  remove(): void {
    this.killRunning();
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.cache, { recursive: true, force: true });
  }
}

/** The files git tracks or would track (not those it ignores, such as lakes under data/), copied; node_modules linked. */
function copyCheckout(repoRoot: string, dir: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  for (const file of new Set(files.split('\0').filter(Boolean))) {
    const from = path.join(repoRoot, file);
    if (!existsSync(from)) continue; // deleted, not yet committed
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    copyFileSync(from, path.join(dir, file));
  }
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group has ended
  }
}

export function tail(stdout: string, stderr: string): string {
  return `--- stdout (end)\n${stdout.slice(-4000)}\n--- stderr (end)\n${stderr.slice(-4000)}`;
}
