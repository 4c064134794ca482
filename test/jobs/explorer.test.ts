/**
 * The lake explorer (`explore`) as a person meets it: started as its own process on a lake built
 * through gold, its page opened in headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core): the tables render, choosing an older gold snapshot changes what gold shows, the
 * map holds one mark per vehicle, hostile record values stay text, and nothing leaves the page.
 * Then its HTTP surface: GET only, no path outside its own, bounded pages, bad parameters a 400.
 * A screenshot is left in test-results/explorer.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readDataRows } from '../../jobs/lake/data-file-source.ts';
import { liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { lakeAt } from '../../jobs/lake/lake.ts';
import { BuiltLake, event } from '../support/built-lake.ts';
import { chromiumPath } from '../support/chromium.ts';
import { startExplorer, type RunningExplorer } from '../support/explorer.ts';

const SCREENSHOT = path.resolve('test-results', 'explorer.png');
const HOSTILE_RAW = '<script>window.__pwned = "raw"</script>{"vehicleId":';
const HOSTILE_ID = '<img src=x onerror="window.__pwned=\'id\'">';

interface Running {
  readonly lake: BuiltLake;
  readonly base: string;
  readonly explorer: RunningExplorer;
}

let running: Running | undefined;
let browser: Browser | undefined;

/** Two bronze snapshots (hostile values among them), silver and gold after each; the explorer on it. */
async function start(): Promise<Running> {
  const lake = new BuiltLake('explorer');
  await lake.bronze([event(1), event(2), event(3), HOSTILE_RAW]);
  await lake.silver();
  await lake.gold();
  await lake.bronze([event(4), event(5), event(9, { vehicleId: HOSTILE_ID })]);
  await lake.silver();
  await lake.gold();
  const explorer = await startExplorer({ LAKEHOUSE_DATA_DIR: lake.dir, LAKEHOUSE_TOPIC: lake.config.topic });
  return { lake, base: explorer.base, explorer };
}

async function distinctVehicles(lake: BuiltLake): Promise<Set<string>> {
  const silver = (await lakeAt(lake.dir).find('silver'))!;
  const ids = new Set<string>();
  const files = (await liveFiles(silver)).map((f) => f.file);
  for await (const row of readDataRows(silver.files, files, silver.spec.columns)) ids.add(String(row.vehicle_id));
  return ids;
}

const loaded = async (page: Page) => {
  await page.waitForSelector('body[data-loaded]');
  assert.is(
    await page.$eval('body', (b) => b.getAttribute('data-loaded')),
    'true',
    await page.$eval('#error', (e) => e.textContent),
  );
};

const browserSuite = suite('the explorer page in headless Chromium');

browserSuite.before(async () => {
  running = await start();
  browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

browserSuite.after(async () => {
  await browser?.close();
  await running?.explorer.stop();
});

browserSuite(
  'tables, time travel in gold, one mark per vehicle, hostile values as text, nothing fetched elsewhere',
  async () => {
    const { base, lake } = running!;
    const page = await browser!.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(String(error)));
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(`${base}/`);
    await loaded(page);

    const tableNames = await page.$$eval('#tables-list button[data-table]', (bs) => bs.map((b) => b.textContent));
    assert.equal(tableNames, ['bronze.vehicles', 'silver.vehicles', 'silver.rejected', 'gold.stats', 'ops.runs']);

    // gold now: all five valid events and the hostile vehicle's; at its first snapshot: three.
    const goldEvents = async () =>
      page.$$eval('#gold-rows tr', (rows) => {
        const header = [...rows[0]!.children].map((c) => c.textContent);
        const at = header.indexOf('event_count');
        return rows.slice(1).reduce((sum, r) => sum + Number(r.children[at]!.textContent), 0);
      });
    assert.is(await goldEvents(), 6);
    const goldSnapshots = await page.$$eval('#gold-snapshot option', (os) =>
      os.map((o) => (o as HTMLOptionElement).value),
    );
    assert.is(goldSnapshots.length, 3, 'current and the two gold snapshots');
    const caption = await page.$eval('#gold-caption', (e) => e.textContent);
    await page.select('#gold-snapshot', goldSnapshots.at(-1)!);
    await page.waitForFunction(
      (before) => document.querySelector('#gold-caption')!.textContent !== before,
      {},
      caption,
    );
    assert.is(await goldEvents(), 3);

    // The map: one mark per distinct vehicle of silver.
    const vehicles = await distinctVehicles(lake);
    const marks = await page.$$eval('#map-svg .vehicle', (ms) => ms.map((m) => (m as SVGElement).dataset.vehicle));
    assert.equal(new Set(marks), vehicles);
    assert.is(marks.length, vehicles.size);

    // Hostile values: shown as text in the quarantine and on the map, never run or parsed as markup.
    const samples = await page.$$eval('#quarantine-reasons code.sample', (cs) => cs.map((c) => c.textContent));
    assert.ok(samples.includes(HOSTILE_RAW), `the raw value among ${JSON.stringify(samples)}`);
    assert.ok(marks.includes(HOSTILE_ID));
    await page.click('button[data-table="bronze.vehicles"]');
    await page.waitForFunction(() => document.querySelectorAll('#table-rows tr').length > 1);
    const bronzeCells = await page.$$eval('#table-rows td', (cs) => cs.map((c) => c.textContent));
    assert.ok(bronzeCells.includes(HOSTILE_RAW));
    assert.is(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned), undefined);
    assert.is(await page.$$eval('main script, main img', (es) => es.length), 0, 'no element made from a value');

    // Freshness: each stage's last run (silver and gold ran in-process and recorded none; ops.runs is empty).
    assert.match(await page.$eval('#freshness-caption', (e) => e.textContent ?? ''), /Bronze lag behind Kafka/);

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(fs.statSync(SCREENSHOT).size > 10_000);
    // data: URLs are Chromium's own (the date input's calendar icon), fetched from nowhere.
    const elsewhere = requests.filter((url) => !url.startsWith(`${base}/`) && !url.startsWith('data:'));
    assert.equal(elsewhere, [], 'every request goes to the explorer itself');
    assert.equal(problems, []);
    await page.close();
  },
);

browserSuite('GET only, a fixed set of paths, bounded pages, a bad parameter is a 400 naming it', async () => {
  const { base } = running!;
  const page = await fetch(`${base}/`);
  assert.is(page.status, 200);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, "default-src 'none'");
  assert.match(csp, "connect-src 'self'");
  assert.is(page.headers.get('x-content-type-options'), 'nosniff');
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const answer = await fetch(`${base}/api/tables`, { method });
    assert.is(answer.status, 405, method);
    assert.is(answer.headers.get('allow'), 'GET, HEAD');
  }
  for (const climb of [
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/app.js/../../../etc/hostname',
    '/jobs/main.ts',
  ])
    assert.is((await fetch(`${base}${climb}`)).status, 404, climb);
  const tooMany = await fetch(`${base}/api/rows?table=bronze.vehicles&limit=100000`);
  assert.is(tooMany.status, 400);
  assert.match((await tooMany.json()).error, /invalid setting limit: 100000 is more than 100/);
  const unknown = await fetch(`${base}/api/rows?table=etc.passwd`);
  assert.is(unknown.status, 400);
  assert.match((await unknown.json()).error, /"etc.passwd" is not one of/);
  const all = await (await fetch(`${base}/api/rows?table=bronze.vehicles&limit=100`)).json();
  assert.is(all.rows.length, 7);
  const paged = await (await fetch(`${base}/api/rows?table=bronze.vehicles&limit=2&offset=5`)).json();
  assert.equal(paged.rows, all.rows.slice(5, 7));
  assert.is((await (await fetch(`${base}/api/gold?table=bronze.vehicles`)).json()).table, 'gold.stats');
  const freshness = await (await fetch(`${base}/api/freshness`)).json();
  assert.equal(
    freshness.tables.map((t: { table: string }) => t.table),
    ['bronze.vehicles', 'silver.vehicles', 'silver.rejected', 'gold.stats', 'ops.runs'],
  );
});

browserSuite.run();
