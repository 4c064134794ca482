/**
 * Silver's rules alone, in this process: `npx tsx dev/bench/rules.ts [COUNT] [RUNS]` validates
 * COUNT (10^6) generated record values as silver does (strict UTF-8, JSON.parse, the compiled
 * rules), RUNS (7) times, and prints each run's rate and the median. The values are the producer's
 * (5 % invalid, in its rotation of reasons), encoded beforehand.
 */
import { loadConfig } from '../../jobs/config.ts';
import { generateRecords } from '../../jobs/events/generate.ts';
import { eventValidator } from '../../jobs/events/validate.ts';

const count = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 7);
const values = Array.from(generateRecords(count, { seed: 42, invalidRatio: 0.05, duplicateRatio: 0 }), (r) =>
  new TextEncoder().encode(r.value),
);
const { validateBytes } = eventValidator(loadConfig(new Map(), {}));
const seconds: number[] = [];
for (let run = 0; run < runs; run++) {
  let valid = 0;
  const started = process.hrtime.bigint();
  for (const value of values) if (validateBytes(value).ok) valid++;
  seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
  console.log(`run ${run + 1}: ${seconds[run].toFixed(3)} s, ${rate(seconds[run])} values/s, ${valid} valid`);
}
const median = seconds.toSorted((a, b) => a - b)[Math.floor(runs / 2)];
console.log(`median of ${runs}: ${median.toFixed(3)} s, ${rate(median)} values/s`);

function rate(s: number): string {
  return Math.round(count / s).toLocaleString('en');
}
