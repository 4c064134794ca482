/**
 * The child process of silver's DuckDB baseline (dev/bench/silver-baseline.ts): plain node, no
 * loader, so that its time and peak memory are DuckDB's own. Reads {statements, counts} as JSON on
 * stdin, runs the statements on an in-memory DuckDB with its defaults (threads = cores), then the
 * counts query, and prints one JSON line: the counts' rows and this process's peak RSS.
 */
import { DuckDBInstance } from '@duckdb/node-api';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { statements, counts } = JSON.parse(input);
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
for (const sql of statements) await connection.run(sql);
const rows = (await connection.runAndReadAll(counts)).getRowObjectsJS();
connection.closeSync();
instance.closeSync();
const peakRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify({ rows, peakRssBytes }, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}\n`);
