/**
 * The incremental scenario: on a lake that already holds `base` events, one more pipeline run that
 * adds `increment` events after them, then (on a lake of more than 0) one that adds `increment`
 * late events, whose times fall inside the base's range and so touch old silver partitions. A run
 * should cost what it adds, not what the lake holds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runJobProcess } from '../job-process.ts';
import { jobRuntimeEnv } from '../../generator/job-pod.ts';

export interface IncrementalResult {
  readonly base: number;
  readonly increment: number;
  readonly late: boolean;
  readonly stages: Record<string, { seconds: number; peakRssBytes: number }>;
  /** Seconds each stage took to build the lake of `base` events, and the rows bronze then held. */
  readonly baseBuild?: { seconds: Record<string, number>; bronzeRows: number };
}

const startTime = Date.parse('2024-01-01T00:00:00Z');

export async function benchIncremental(
  base: number,
  increment: number,
  bootstrap: string,
  bundle: string,
  nodeOptions: string,
  say: (message: string) => void,
): Promise<IncrementalResult[]> {
  const run = `inc-${base}-${Date.now()}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bench-'));
  const env = {
    ...process.env,
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: `bench-${run}`,
    LAKEHOUSE_CONSUMER_GROUP: `bench-${run}`,
    LAKEHOUSE_DATA_DIR: dataDir,
    ...jobRuntimeEnv(nodeOptions),
  };
  let finished: Record<string, unknown> = {};
  let failure = '';
  const job = async (name: string, settings: Record<string, string> = {}) => {
    const outcome = await runJobProcess(
      name,
      [],
      { ...env, ...settings },
      (line) => {
        if (line.includes('"msg":"finished"')) finished = JSON.parse(line).result ?? {};
        if (line.includes('"msg":"failed"')) failure = String(JSON.parse(line).error);
      },
      { entry: bundle },
    );
    if (outcome.exitCode !== 0) throw new Error(`${name} failed with exit code ${outcome.exitCode}: ${failure}`);
    return outcome;
  };
  const results: IncrementalResult[] = [];
  try {
    await job('topics');
    let baseBuild: IncrementalResult['baseBuild'];
    if (base > 0) {
      say(`incremental: building a lake of ${base} events`);
      const seconds: Record<string, number> = {};
      let bronzeRows = 0;
      for (const stage of ['produce', 'bronze', 'silver', 'gold']) {
        const started = performance.now();
        await job(
          stage,
          stage === 'produce' ? { LAKEHOUSE_EVENTS: String(base), LAKEHOUSE_START_TIME: String(startTime) } : {},
        );
        seconds[stage] = (performance.now() - started) / 1000;
        if (stage === 'bronze') bronzeRows = Number(finished.recordsRead);
      }
      baseBuild = { seconds, bronzeRows };
      say(
        `  built: ${bronzeRows} bronze rows; ${Object.entries(seconds)
          .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
          .join(', ')}`,
      );
    }
    // Events are one second apart: after the base, or (late) starting in the middle of its range.
    for (const late of base > 0 ? [false, true] : [false]) {
      const incrementStart = late ? startTime + Math.floor(base / 2) * 1000 + 500 : startTime + base * 1000;
      await job('produce', {
        LAKEHOUSE_EVENTS: String(increment),
        LAKEHOUSE_START_TIME: String(incrementStart),
        LAKEHOUSE_SEED: '7',
      });
      const stages: IncrementalResult['stages'] = {};
      for (const stage of ['bronze', 'silver', 'gold']) {
        const started = performance.now();
        const outcome = await job(stage);
        stages[stage] = { seconds: (performance.now() - started) / 1000, peakRssBytes: outcome.peakRssBytes };
        say(
          `  +${increment} on ${base}${late ? ' (late)' : ''}: ${stage} ${stages[stage].seconds.toFixed(2)} s, ${(outcome.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
        );
      }
      results.push({ base, increment, late, stages, ...(late ? {} : { baseBuild }) });
    }
    await job('verify');
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}
