/**
 * The maintenance scenario: `runs` pipeline runs of `events` events each into two lakes that read the
 * same topic (each its own consumer group), the second followed by `maintain` after every run, as a
 * schedule would run it (snapshots kept: `keep`; no retention or orphan window, so the figure shows
 * what maintenance bounds). Reported per table: live data files, files under the table's directory,
 * snapshots; and the lakes must hold the same rows (verify passes on both, the data tables' row counts are equal).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { localPath } from '../../jobs/lake/io/local-file-io.ts';
import { headOf, lakeAt } from '../../jobs/lake/lake.ts';
import { runJobProcess } from '../job-process.ts';
import { jobRuntimeEnv } from '../../generator/job-pod.ts';

export interface MaintenanceResult {
  readonly runs: number;
  readonly events: number;
  readonly keepSnapshots: number;
  /** Per lake (`without`, `with`) and table. */
  readonly tables: {
    lake: string;
    table: string;
    liveFiles: number;
    filesOnDisk: number;
    snapshots: number;
    rows: number;
  }[];
  readonly maintainSeconds: number;
}

const filesUnder = (dir: string) =>
  fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

async function describeLake(lake: string, dataDir: string): Promise<MaintenanceResult['tables']> {
  const rows: MaintenanceResult['tables'] = [];
  const catalog = lakeAt(dataDir);
  for (const spec of await catalog.specs()) {
    const table = (await catalog.load(spec))!;
    rows.push({
      lake,
      table: spec.name,
      liveFiles: headOf(table) ? (await liveFiles(table)).length : 0,
      filesOnDisk: filesUnder(localPath(table.location)),
      snapshots: table.metadata.snapshots?.length ?? 0,
      rows: Number(headOf(table)?.summary['total-records'] ?? 0),
    });
  }
  return rows;
}

export async function benchMaintenance(
  runs: number,
  events: number,
  bootstrap: string,
  bundle: string,
  nodeOptions: string,
  say: (message: string) => void,
  keepSnapshots = 5,
): Promise<MaintenanceResult> {
  const run = `maint-${Date.now()}`;
  const lakes = {
    without: fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bench-')),
    with: fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bench-')),
  };
  const base = {
    ...process.env,
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: `bench-${run}`,
    ...jobRuntimeEnv(nodeOptions),
  };
  const envOf = (lake: keyof typeof lakes) => ({
    ...base,
    LAKEHOUSE_DATA_DIR: lakes[lake],
    LAKEHOUSE_CONSUMER_GROUP: `bench-${run}-${lake}`,
    LAKEHOUSE_SNAPSHOT_RETENTION_HOURS: '0',
    LAKEHOUSE_KEEP_SNAPSHOTS: String(keepSnapshots),
    LAKEHOUSE_ORPHAN_AGE_HOURS: '0',
  });
  let failure = '';
  const job = async (name: string, env: NodeJS.ProcessEnv) => {
    const outcome = await runJobProcess(
      name,
      [],
      env,
      (line) => {
        if (line.includes('"msg":"failed"')) failure = String(JSON.parse(line).error);
      },
      { entry: bundle },
    );
    if (outcome.exitCode !== 0) throw new Error(`${name} failed with exit code ${outcome.exitCode}: ${failure}`);
    return outcome;
  };
  let maintainSeconds = 0;
  try {
    await job('topics', envOf('without'));
    for (let i = 0; i < runs; i++) {
      await job('produce', {
        ...envOf('without'),
        LAKEHOUSE_EVENTS: String(events),
        LAKEHOUSE_SEED: String(i),
        LAKEHOUSE_START_TIME: String(Date.parse('2024-01-01T00:00:00Z') + i * events * 1000),
      });
      for (const lake of ['without', 'with'] as const) {
        for (const stage of ['bronze', 'silver', 'gold']) await job(stage, envOf(lake));
      }
      const started = performance.now();
      await job('maintain', envOf('with'));
      maintainSeconds += (performance.now() - started) / 1000;
      if ((i + 1) % 10 === 0) say(`maintenance: ${i + 1} of ${runs} runs`);
    }
    for (const lake of ['without', 'with'] as const) await job('verify', envOf(lake));
    const tables = [...(await describeLake('without', lakes.without)), ...(await describeLake('with', lakes.with))];
    for (const row of tables.filter((r) => r.lake === 'with')) {
      const other = tables.find((r) => r.lake === 'without' && r.table === row.table);
      // gold holds one row per type; ops.runs records each lake's own runs (maintain's too).
      if (other && !['gold.stats', 'ops.runs'].includes(row.table) && other.rows !== row.rows)
        throw new Error(`${row.table}: ${other.rows} rows without maintenance, ${row.rows} with`);
    }
    return { runs, events, keepSnapshots, tables, maintainSeconds };
  } finally {
    for (const dir of Object.values(lakes)) fs.rmSync(dir, { recursive: true, force: true });
  }
}
