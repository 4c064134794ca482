// Run in a pod of the release (so the explorer's NetworkPolicy admits it) by the default scenario
// (ci/cluster/test.sh): opens the explorer through its Service as a browser would, and checks the
// page, its Content-Security-Policy, one JSON endpoint with the lake's tables, gold, and that a
// write is refused. One line per check; exit 1 at the first that fails.
const base = process.env.EXPLORER_URL;
const fail = (why) => {
  console.log(`FAIL ${why}`);
  process.exit(1);
};
const get = async (path, init) => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      if (attempt >= 10) fail(`${path}: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    }
  }
};

const page = await get('/');
const html = await page.text();
if (page.status !== 200 || !html.includes('<title>Lakehouse explorer</title>')) fail(`/ answered ${page.status}`);
const csp = page.headers.get('content-security-policy') ?? '';
if (!csp.includes("default-src 'none'") || !csp.includes("connect-src 'self'")) fail(`/ has CSP "${csp}"`);
console.log(`ok   / is the explorer's page (${html.length} bytes), CSP: ${csp}`);

const script = await get('/app.js');
if (script.status !== 200 || !(script.headers.get('content-type') ?? '').startsWith('text/javascript'))
  fail(`/app.js answered ${script.status}`);
console.log('ok   /app.js served');

const tables = await (await get('/api/tables')).json();
const gold = tables.find((t) => t.table === 'gold.stats');
if (!gold || gold.snapshot === '-' || Number(gold.rows) < 1) fail(`/api/tables: gold.stats is ${JSON.stringify(gold)}`);
for (const t of tables)
  console.log(`ok   /api/tables: ${t.table} snapshot ${t.snapshot}, ${t.rows} rows, ${t.files} files`);

const stats = await (await get('/api/gold')).json();
const events = stats.rows.reduce((sum, row) => sum + Number(row.event_count), 0);
if (stats.rows.length < 1 || events < 1) fail(`/api/gold: ${JSON.stringify(stats).slice(0, 300)}`);
console.log(`ok   /api/gold: ${stats.rows.length} vehicle type(s), ${events} event(s)`);

const positions = await (await get('/api/positions')).json();
if (positions.vehicles.length < 1) fail('/api/positions: no vehicle');
console.log(`ok   /api/positions: ${positions.vehicles.length} vehicle(s)`);

const write = await get('/api/tables', { method: 'POST' });
if (write.status !== 405) fail(`POST /api/tables answered ${write.status}`);
console.log('ok   POST is refused (405)');
