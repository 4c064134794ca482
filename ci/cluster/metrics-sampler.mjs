// Runs inside the cluster (node -e, in a pod of the release so the exporter's NetworkPolicy admits
// it): scrapes each exporter every SAMPLE_SECONDS, SAMPLES times, and prints one line per exporter
// and sample with the freshness figures, then the raw last scrape of each when SAMPLES is 1.
// env: EXPORTERS="name=url,...", SAMPLES, SAMPLE_SECONDS
const exporters = process.env.EXPORTERS.split(',').map((e) => e.split(/=(.*)/s).slice(0, 2));
const samples = Number(process.env.SAMPLES ?? '1');
const interval = Number(process.env.SAMPLE_SECONDS ?? '30') * 1000;

/** `name{a="x",b="y"} value` lines -> [{ name, labels, value }]. */
const parse = (text) =>
  text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (!m) return undefined;
      const labels = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]),
      );
      return { name: m[1], labels, value: Number(m[3]) };
    })
    .filter(Boolean);

const pick = (series, name, key) =>
  series
    .filter((s) => s.name === name)
    .map((s) => `${s.labels[key] ?? '?'}:${s.value}`)
    .sort()
    .join(',') || '-';

// The NetworkPolicy enforcer learns a new pod's address about a second after it starts: until
// then this pod's connections are refused, so until one scrape got through a failed try is tried
// again for a while. Later failures are samples of their own, not held up by retries.
let admitted = false;
async function fetchSoon(url) {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      admitted = true;
      return response;
    } catch (error) {
      if (admitted || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

async function scrape(name, url, started) {
  const t = Math.round((Date.now() - started) / 1000);
  try {
    const response = await fetchSoon(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    const series = parse(text);
    const gold = series.find(
      (s) => s.name === 'lakehouse_stage_seconds_since_last_success' && s.labels.stage === 'gold',
    );
    const up = series.find((s) => s.name === 'lakehouse_up');
    console.log(
      `sample t=${t}s ${name} up=${up?.value ?? '-'} gold_age=${gold ? Math.round(gold.value) : '-'}s` +
        ` lag=${pick(series, 'lakehouse_kafka_lag_records', 'partition')}` +
        ` files=${pick(series, 'lakehouse_table_data_files', 'table')}` +
        ` rows=${pick(series, 'lakehouse_table_rows', 'table')}`,
    );
    return text;
  } catch (error) {
    console.log(`sample t=${t}s ${name} error=${JSON.stringify(String(error))}`);
    return undefined;
  }
}

const started = Date.now();
let failed = false;
for (let i = 0; i < samples; i++) {
  const due = started + i * interval;
  await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  for (const [name, url] of exporters) {
    const text = await scrape(name, url, started);
    if (text === undefined) failed = true;
    else if (samples === 1) console.log(text);
  }
}
process.exit(failed && samples === 1 ? 1 : 0);
