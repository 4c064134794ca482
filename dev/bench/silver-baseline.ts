/**
 * Silver's native-engine baseline: the same work as the silver stage done by DuckDB SQL over the
 * bronze table's current data files — decode each value as UTF-8, parse it as JSON, apply the
 * rules (jobs/events/rules.ts, in their order: the first failing check names the reason and field),
 * keep the first event of each (vehicleId, timestamp) in (partition, offset) order, and write the
 * valid rows and the rejected rows with their reason and field to Parquet (snappy, as silver
 * writes; one file each, not day-partitioned, and no detail text) in a temporary directory. The
 * SQL is generated from the rules, so the baseline follows a rule change.
 *
 * It de-duplicates all of bronze in one pass, where silver's incremental runs let the rows already
 * in silver win: which event of a pair is kept may differ, how many are duplicates does not.
 *
 * DuckDB runs in a child process (silver-baseline-duckdb.mjs, plain node) with its defaults
 * (threads = cores), so its wall seconds and peak RSS are its own. Its counts (valid, rejected, and
 * rejected per reason) must equal those silver wrote in the lake; a difference throws, naming it.
 *
 * Where DuckDB's JSON (yyjson) reads differently from ours (strict UTF-8 decoding, then JSON.parse):
 * - NaN, Infinity and inf (any case, signed) and trailing commas are JSON to DuckDB, not to
 *   JSON.parse: `jsOnlyJson` below finds them outside strings and the value is malformed_json, as
 *   silver says (the producer's rotation sends `"latitude":NaN`).
 * - A number beyond double's range (1e400) is JSON to both; JSON.parse reads it as Infinity, which
 *   fails the type check, and DuckDB's cast to DOUBLE fails, which fails the same check. They agree.
 * - A lone surrogate escape ("\ud800") is not JSON to DuckDB, so the value is malformed_json, where
 *   silver says wrong_type for a rule's field (and accepts it in a field the rules do not read).
 *   Not handled: the producer never sends one.
 * - A duplicate key: DuckDB reads the first, JSON.parse the last. Not handled: the producer never
 *   sends one.
 * - Invalid UTF-8 (bad bytes, overlongs, encoded surrogates, beyond U+10FFFF): DuckDB's decode
 *   refuses what TextDecoder's fatal mode refuses; a BOM stays in the text and is not JSON to
 *   either. They agree.
 * - Numbers are compared as doubles, as JavaScript compares them (a big integer literal is rounded
 *   to the nearest double before the integer and range checks in both).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../jobs/config.ts';
import { eventRules, type EventRules, type FieldRule } from '../../jobs/events/rules.ts';
import type { RuleSettings } from '../../jobs/events/validate.ts';
import { readDataFile } from '../../jobs/lake/data-file-source.ts';
import { liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { localPath } from '../../jobs/lake/io/local-file-io.ts';
import { headOf, lakeAt } from '../../jobs/lake/lake.ts';
import { type ColumnSpec, rejectedColumns, silverColumns } from '../../jobs/lake/table-schema.ts';
import { eachLine, exitOf } from '../job-process.ts';

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'silver-baseline-duckdb.mjs');

export interface SilverCounts {
  readonly valid: number;
  readonly rejected: number;
  /** Rejected rows per reason code (duplicates included, as silver.rejected holds them). */
  readonly reasons: Readonly<Record<string, number>>;
}

export interface SilverBaselineResult {
  readonly seconds: number;
  readonly eventsPerSec: number;
  readonly peakRssBytes: number;
  readonly validRows: number;
  readonly rejectedRows: number;
}

/**
 * Runs the baseline on a volume lake (LAKEHOUSE_DATA_DIR) where bronze and silver have run, and
 * checks its counts against the lake's silver tables. Events/s is bronze rows over the child's
 * wall seconds (start to exit, as the bench times each stage).
 */
export async function duckdbSilverBaseline(
  dataDir: string,
  say: (message: string) => void,
  settings: RuleSettings = loadConfig(new Map(), {}),
): Promise<SilverBaselineResult> {
  const bronze = await bronzeFiles(dataDir);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-duckdb-silver-'));
  try {
    say(`silver baseline (DuckDB): ${bronze.rows} bronze rows in ${bronze.paths.length} files`);
    const plan = baselineSql(bronze.paths, outDir, settings);
    const run = await runDuckdb(plan, outDir);
    const counts = countsOf(run.rows);
    if (counts.valid + counts.rejected !== bronze.rows)
      throw new Error(
        `the DuckDB baseline placed ${counts.valid + counts.rejected} of ${bronze.rows} bronze rows (a bug of the baseline)`,
      );
    compareSilverCounts(counts, await lakeSilverCounts(dataDir));
    const result = {
      seconds: run.seconds,
      eventsPerSec: bronze.rows / run.seconds,
      peakRssBytes: run.peakRssBytes,
      validRows: counts.valid,
      rejectedRows: counts.rejected,
    };
    return result;
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

/** Throws, naming every count that differs, when the baseline's counts are not silver's. */
export function compareSilverCounts(baseline: SilverCounts, silver: SilverCounts): void {
  const differences: string[] = [];
  const differ = (what: string, ours: number, theirs: number) => {
    if (ours !== theirs) differences.push(`${what}: DuckDB ${ours}, silver ${theirs}`);
  };
  differ('valid rows', baseline.valid, silver.valid);
  differ('rejected rows', baseline.rejected, silver.rejected);
  const reasons = [...new Set([...Object.keys(baseline.reasons), ...Object.keys(silver.reasons)])].sort();
  for (const reason of reasons)
    differ(`rejected ${reason}`, baseline.reasons[reason] ?? 0, silver.reasons[reason] ?? 0);
  if (differences.length > 0)
    throw new Error(`the DuckDB baseline's counts are not silver's: ${differences.join('; ')}`);
}

/** The counts silver wrote: rows of silver.vehicles and of silver.rejected per reason, current snapshots. */
export async function lakeSilverCounts(dataDir: string): Promise<SilverCounts> {
  const lake = lakeAt(dataDir);
  const silver = await lake.find('silver');
  const rejected = await lake.find('rejected');
  const valid = silver && headOf(silver) ? (await liveFiles(silver)).reduce((n, f) => n + f.file.recordCount, 0) : 0;
  const reasons: Record<string, number> = {};
  let rejectedRows = 0;
  if (rejected && headOf(rejected)) {
    for (const { file } of await liveFiles(rejected)) {
      for await (const { rows, columns } of readDataFile(rejected.files, file, rejectedColumns, ['reason'])) {
        const reason = columns.reason as ArrayLike<string>;
        for (let i = 0; i < rows; i++) reasons[reason[i]] = (reasons[reason[i]] ?? 0) + 1;
        rejectedRows += rows;
      }
    }
  }
  return { valid, rejected: rejectedRows, reasons };
}

/** The bronze table's current data files, as the lake's own reader lists them, and their rows. */
async function bronzeFiles(dataDir: string): Promise<{ paths: string[]; rows: number }> {
  const bronze = await lakeAt(dataDir).find('bronze');
  if (!bronze || !headOf(bronze)) throw new Error(`no bronze data in ${dataDir}; run bronze and silver first`);
  const live = await liveFiles(bronze);
  return {
    paths: live.map((f) => localPath(bronze.files.resolve(f.file.path, 'data file'))),
    rows: live.reduce((n, f) => n + f.file.recordCount, 0),
  };
}

export interface BaselinePlan {
  /** Statements run in order: they read bronze, fill the table `checked` and write the Parquet files. */
  readonly statements: readonly string[];
  /** Rows (reason, n) of the files written: reason null for the valid rows. */
  readonly counts: string;
}

const sql = (text: string) => `'${text.replace(/'/g, "''")}'`;
const double = (n: number) => `CAST(${sql(String(n))} AS DOUBLE)`;
// JSON's four whitespace characters, as a regular expression's class.
const space = '[ \\t\\n\\r]';
/**
 * Valid JSON to DuckDB, not to JSON.parse: outside strings, a NaN or inf(inity) literal (yyjson
 * reads them in any case, signed) or a comma before a closing bracket. Tested only on values
 * DuckDB found valid, where no other token outside a string holds those letters. RE2 runs it in
 * linear time (about a third of the parse's cost at 10^5 events).
 */
const jsOnlyJson = `^(?:[^"]|"(?:[^"\\\\]|\\\\.)*")*?(?:(?:^|[\\[:,])${space}*[-+]?(?i:nan|inf)|,${space}*[\\]}])`;

/** How silver.ts writes a valid event: the silver column of each rule field. */
const silverColumnOf: Readonly<Record<string, string>> = {
  vehicleId: 'vehicle_id',
  type: 'type',
  latitude: 'latitude',
  longitude: 'longitude',
  battery: 'battery',
  timestamp: 'event_time',
};
/** silver's de-duplication key (silver.ts: one event per vehicle and event time). */
const uniqueKey = ['vehicleId', 'timestamp'] as const;

/** The baseline's SQL for `files` (bronze Parquet), writing silver.parquet and rejected.parquet into `outDir`. */
export function baselineSql(
  files: readonly string[],
  outDir: string,
  settings: RuleSettings,
  rules: EventRules = eventRules,
): BaselinePlan {
  const fields = rules.fields;
  fields.forEach((f) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name)) throw new Error(`rule field ${f.name}: not a plain JSON key`);
  });
  const index = (name: string) => {
    const i = fields.findIndex((f) => f.name === name);
    if (i < 0) throw new Error(`silver's ${name} is not among the rules' fields`);
    return i;
  };
  // Per field i: j{i} its JSON (null when absent), t{i} its JSON type, s{i} its text, d{i} its number.
  const fieldColumns = fields.flatMap((_, i) => [
    `f[${i + 1}] AS j${i}`,
    `json_type(f[${i + 1}]) AS t${i}`,
    `CASE WHEN json_type(f[${i + 1}]) = 'VARCHAR' THEN f[${i + 1}] ->> '$' END AS s${i}`,
    `CASE WHEN json_type(f[${i + 1}]) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST(f[${i + 1}] AS DOUBLE) END AS d${i}`,
  ]);

  // Every way to fail, in the rules' order (reasons outer, fields inner): [condition, reason, field].
  const failures: [string, string, string | null][] = [];
  for (const reason of rules.reasons) {
    const add = (condition: string, field: string | null) => failures.push([condition, reason.code, field]);
    switch (reason.check) {
      case 'json':
        add('NOT is_json', null);
        break;
      case 'object':
        add('NOT is_object', null);
        break;
      case 'present':
        for (const [i, f] of fields.entries()) add(`j${i} IS NULL OR t${i} = 'NULL' OR s${i} = ''`, f.name);
        break;
      case 'type':
        for (const [i, f] of fields.entries()) add(typeFailure(f, i), f.name);
        break;
      case 'oneOf':
        fields.forEach((f, i) => {
          if (f.oneOf === undefined) return;
          const names = settings[f.oneOf];
          if (names.length === 0) throw new Error(`the setting ${f.oneOf} names nothing`);
          add(`s${i} NOT IN (${names.map(sql).join(', ')})`, f.name);
        });
        break;
      case 'range':
        fields.forEach((f, i) => {
          const r = f.range;
          if (!r) return;
          const within = [
            r.minimum !== undefined && `d${i} >= ${double(r.minimum)}`,
            r.exclusiveMinimum !== undefined && `d${i} > ${double(r.exclusiveMinimum)}`,
            r.maximum !== undefined && `d${i} <= ${double(r.maximum)}`,
            r.exclusiveMaximum !== undefined && `d${i} < ${double(r.exclusiveMaximum)}`,
          ].filter(Boolean);
          if (within.length > 0) add(`NOT (${within.join(' AND ')})`, f.name);
        });
        break;
      case 'unique':
        break;
      default:
        throw new Error(`the rules' check ${reason.check} is not one the baseline knows`);
    }
  }
  const duplicate = rules.reasons.find((r) => r.check === 'unique');
  if (!duplicate) throw new Error('the rules have no unique check, which silver applies');
  failures.push(['false', duplicate.code, null]);
  const duplicateOutcome = failures.length;
  const reasonList = `[${failures.map(([, code]) => sql(code)).join(', ')}]`;
  const fieldList = `[${failures.map(([, , field]) => (field === null ? 'NULL' : sql(field))).join(', ')}]`;
  const failure = `CASE ${failures
    .slice(0, -1)
    .map(([condition], i) => `WHEN ${condition} THEN ${i + 1}`)
    .join(' ')} ELSE 0 END`;

  const vehicle = index(uniqueKey[0]);
  const time = index(uniqueKey[1]);
  const silverValue = (column: ColumnSpec): string => {
    if (column.name === 'source_partition' || column.name === 'source_offset') return column.name;
    const name = Object.keys(silverColumnOf).find((k) => silverColumnOf[k] === column.name);
    if (!name) throw new Error(`silver's column ${column.name} is not one the baseline fills`);
    const i = index(name);
    switch (column.type) {
      case 'string':
        return `s${i}`;
      case 'double':
        return `d${i}`;
      case 'int':
        return `CAST(d${i} AS INTEGER)`;
      case 'timestamptz':
        return `CAST(epoch_ms(CAST(d${i} AS BIGINT)) AS TIMESTAMPTZ)`;
      default:
        throw new Error(
          `silver's column ${column.name} has the type ${column.type}, which the baseline does not write`,
        );
    }
  };
  const fileList = `[${files.map(sql).join(', ')}]`;
  const silverFile = path.join(outDir, 'silver.parquet');
  const rejectedFile = path.join(outDir, 'rejected.parquet');
  const parquet = `(FORMAT parquet, COMPRESSION snappy)`;

  const checked = `CREATE TEMP TABLE checked AS
WITH bronze AS (
  SELECT "partition" AS source_partition, "offset" AS source_offset,
    CASE WHEN value IS NOT NULL THEN try(decode(value)) END AS text
  FROM read_parquet(${fileList})
), parsed AS (
  SELECT *, coalesce(json_valid(text) AND NOT regexp_matches(text, ${sql(jsOnlyJson)}), false) AS is_json
  FROM bronze
), objects AS (
  SELECT *, is_json AND regexp_matches(text, ${sql(`^${space}*\\{`)}) AS is_object
  FROM parsed
), extracted AS (
  SELECT *, CASE WHEN is_object THEN json_extract(text, [${fields.map((f) => sql(`$."${f.name}"`)).join(', ')}]) END AS f
  FROM objects
), fielded AS (
  SELECT source_partition, source_offset, is_json, is_object, ${fieldColumns.join(', ')}
  FROM extracted
), failed AS (
  SELECT *, ${failure} AS failure FROM fielded
), deduplicated AS (
  SELECT *, CASE WHEN failure = 0 AND row_number() OVER (
      PARTITION BY failure <> 0, s${vehicle}, d${time} ORDER BY source_partition, source_offset) > 1
    THEN ${duplicateOutcome} ELSE failure END AS outcome
  FROM failed
)
SELECT source_partition, source_offset,
  CASE WHEN outcome > 0 THEN ${reasonList}[outcome] END AS reason,
  CASE WHEN outcome > 0 THEN ${fieldList}[outcome] END AS field,
  ${silverColumns
    .filter((c) => c.name !== 'source_partition' && c.name !== 'source_offset')
    .map((c) => `CASE WHEN outcome = 0 THEN ${silverValue(c)} END AS ${c.name}`)
    .join(',\n  ')}
FROM deduplicated`;
  const silverOut = `COPY (SELECT ${silverColumns.map((c) => c.name).join(', ')} FROM checked WHERE reason IS NULL)
TO ${sql(silverFile)} ${parquet}`;
  // A rejected row keeps its raw record, read again from bronze (as silver reads its duplicates
  // again): carried through the parse and the de-duplication's sort, every value would be held.
  const rejectedOut = `COPY (
  SELECT b.value AS raw_value, b.key, c.source_partition, c.source_offset, c.reason, c.field
  FROM checked c JOIN read_parquet(${fileList}) b ON b."partition" = c.source_partition AND b."offset" = c.source_offset
  WHERE c.reason IS NOT NULL
) TO ${sql(rejectedFile)} ${parquet}`;
  return {
    statements: [checked, silverOut, rejectedOut],
    // Counted in the files written, so that a row lost on the way to Parquet is a difference too.
    counts: `SELECT NULL AS reason, count(*) AS n FROM read_parquet(${sql(silverFile)})
UNION ALL SELECT reason, count(*) AS n FROM read_parquet(${sql(rejectedFile)}) GROUP BY reason`,
  };
}

function typeFailure(f: FieldRule, i: number): string {
  switch (f.type) {
    case 'string':
      // A lone surrogate never gets here: DuckDB's JSON refuses it (see the top of this file).
      return `t${i} <> 'VARCHAR'`;
    case 'number':
      return `coalesce(NOT isfinite(d${i}), true)`;
    case 'integer':
      return `coalesce(NOT isfinite(d${i}) OR d${i} <> floor(d${i}), true)`;
    default:
      throw new Error(`the rules give ${(f as FieldRule).name} a type the baseline does not know`);
  }
}

function countsOf(rows: readonly { reason: string | null; n: number }[]): SilverCounts {
  const reasons: Record<string, number> = {};
  let valid = 0;
  for (const { reason, n } of rows) {
    if (reason === null) valid = n;
    else reasons[reason] = n;
  }
  return { valid, rejected: Object.values(reasons).reduce((a, b) => a + b, 0), reasons };
}

interface ChildRun {
  readonly seconds: number;
  readonly peakRssBytes: number;
  readonly rows: { reason: string | null; n: number }[];
}

/** Runs the plan in a child node process; its working directory (DuckDB's spill files) is `workDir`. */
async function runDuckdb(plan: BaselinePlan, workDir: string): Promise<ChildRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [childScript], { cwd: workDir, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(JSON.stringify(plan));
  let last = '';
  const errors: string[] = [];
  const [exitCode] = await Promise.all([
    exitOf(child),
    eachLine(child.stdout!, (line) => (last = line)),
    eachLine(child.stderr!, (line) => errors.push(line)),
  ]);
  const seconds = (performance.now() - started) / 1000;
  if (exitCode !== 0)
    throw new Error(`the DuckDB baseline failed (exit code ${exitCode}): ${errors.slice(-5).join(' | ')}`);
  const { rows, peakRssBytes } = JSON.parse(last) as Omit<ChildRun, 'seconds'>;
  return { seconds, peakRssBytes, rows };
}
