/**
 * The explorer's page: one HTML document, its style sheet and its script, served from these strings
 * (they are part of the jobs' bundle, so the explorer needs no file of its own). The script puts
 * every value it gets from the lake into the page with `textContent` and SVG attributes only, never
 * as markup, and fetches nothing but the explorer's own /api/ endpoints.
 */

/** Where the page draws the map: a box around Paris (degrees), wide enough for the fleet's area. */
export const PARIS = { south: 48.8, north: 48.91, west: 2.22, east: 2.47 } as const;

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lakehouse explorer</title>
<link rel="stylesheet" href="/app.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<script src="/app.js" defer></script>
</head>
<body>
<header><h1>Lakehouse explorer</h1><p>A read-only view of the lake: <span id="lake-at"></span></p></header>
<main>
<section id="tables"><h2>Tables</h2><table id="tables-list"></table>
  <div id="table-detail" hidden>
    <h3 id="table-title"></h3>
    <label>Snapshot <select id="table-snapshot"></select></label>
    <h4>History</h4><table id="table-history"></table>
    <h4>Rows <span id="rows-caption"></span></h4>
    <div class="pager"><button id="rows-prev" type="button">Previous</button><button id="rows-next" type="button">Next</button></div>
    <div class="scroll"><table id="table-rows"></table></div>
  </div>
</section>
<section id="gold"><h2>Gold per vehicle type</h2>
  <form id="gold-form">
    <label>Snapshot <select id="gold-snapshot"></select></label>
    <label>or as of <input id="gold-as-of" type="datetime-local" step="1"></label>
    <button type="submit">Show</button>
  </form>
  <p id="gold-caption"></p><table id="gold-rows"></table>
</section>
<section id="quarantine"><h2>Quarantine by reason</h2><p id="quarantine-caption"></p><table id="quarantine-reasons"></table></section>
<section id="freshness"><h2>Freshness</h2><p id="freshness-caption"></p>
  <h3>Bronze lag per Kafka partition</h3><table id="freshness-lag"></table>
  <h3>Stages</h3><table id="freshness-stages"></table>
</section>
<section id="map"><h2>Last known position of each vehicle</h2><p id="map-caption"></p>
  <svg id="map-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 640" role="img" aria-label="Vehicles on a map of Paris"></svg>
  <p class="legend">Shape: <span class="car">&#9632; car</span> <span class="bike">&#9650; bike</span> <span class="scooter">&#9679; scooter</span>; colour: battery, red (empty) to green (full).</p>
</section>
<p id="error" role="alert"></p>
</main>
</body>
</html>
`;

/** The tab's icon: a lake-blue square. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#12355b"/><path d="M2 10q3-3 6 0t6 0" stroke="#6ea8d8" stroke-width="2" fill="none"/></svg>';

export const APP_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#12355b;color:#fff;padding:.6em 1.2em}header h1{margin:0;font-size:1.4em}header p{margin:.2em 0 0}
main{padding:0 1.2em 2em}section{background:#fff;border:1px solid #d8dde3;border-radius:6px;margin:1em 0;padding:.4em 1em 1em}
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #d8dde3;padding:.2em .5em;text-align:left;vertical-align:top;white-space:pre-wrap;word-break:break-all;max-width:40em}
th{background:#eef1f5}.scroll{overflow-x:auto}button.link{background:none;border:0;color:#0b57d0;cursor:pointer;padding:0;text-decoration:underline;font:inherit}
form label,#table-detail label{margin-right:1em}#error{color:#b3261e;white-space:pre-wrap}
#map-svg{width:100%;max-width:1000px;background:#eef3ea;border:1px solid #c7cfc0}.legend span{margin-right:1em}
.pager button{margin-right:.5em}code.sample{display:block;background:#f3f0ea;margin:.1em 0;padding:.1em .3em;white-space:pre-wrap;word-break:break-all}
`;

export const APP_JS = `'use strict';
(() => {
  const PARIS = ${JSON.stringify(PARIS)};
  const SVG = 'http://www.w3.org/2000/svg';
  const W = 1000, H = 640, PAGE = 20;
  const $ = (id) => document.getElementById(id);
  const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); return e; };
  const shown = (error) => { $('error').textContent = String(error && error.message ? error.message : error); };

  async function api(path, params) {
    const query = new URLSearchParams(params || {}).toString();
    const response = await fetch('/api/' + path + (query ? '?' + query : ''), { headers: { accept: 'application/json' } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  /** A table of objects; cell(column, row) may give a node instead of text. */
  function fill(table, rows, columns, cell) {
    table.replaceChildren();
    const cols = columns || (rows[0] ? Object.keys(rows[0]) : []);
    const head = el('tr');
    for (const c of cols) head.append(el('th', c));
    table.append(head);
    for (const row of rows) {
      const tr = el('tr');
      for (const c of cols) {
        const td = el('td');
        const node = cell && cell(c, row);
        if (node) td.append(node); else td.textContent = row[c] === undefined || row[c] === null ? '' : String(row[c]);
        tr.append(td);
      }
      table.append(tr);
    }
    if (rows.length === 0) { const tr = el('tr'); tr.append(el('td', '(none)')); table.append(tr); }
  }

  function options(select, snapshots, current) {
    select.replaceChildren();
    const latest = el('option', 'current');
    latest.value = '';
    select.append(latest);
    for (const s of snapshots.slice().reverse()) {
      const o = el('option', s.snapshot + ' (' + s.committed + ', ' + s.total_rows + ' rows)');
      o.value = s.snapshot;
      select.append(o);
    }
    select.value = current || '';
  }

  const detail = { table: '', offset: 0 };

  async function showRows() {
    const params = { table: detail.table, offset: String(detail.offset), limit: String(PAGE) };
    if ($('table-snapshot').value) params.snapshot = $('table-snapshot').value;
    const page = await api('rows', params);
    $('rows-caption').textContent = page.snapshot
      ? 'at snapshot ' + page.snapshot.snapshot + ' (' + page.snapshot.committed + '), rows ' + (page.offset + 1) + '-' + (page.offset + page.rows.length) + ' of ' + page.snapshot.rows
      : '(the table has no snapshot yet)';
    fill($('table-rows'), page.rows, page.columns);
    $('rows-prev').disabled = detail.offset === 0;
    $('rows-next').disabled = page.rows.length < PAGE;
  }

  async function openTable(name) {
    const history = await api('snapshots', { table: name });
    detail.table = name;
    detail.offset = 0;
    $('table-detail').hidden = false;
    $('table-title').textContent = name;
    options($('table-snapshot'), history.snapshots, '');
    fill($('table-history'), history.snapshots.slice().reverse());
    await showRows();
  }

  async function loadTables() {
    const tables = await api('tables');
    fill($('tables-list'), tables, ['table', 'snapshot', 'committed', 'rows', 'files', 'bytes', 'snapshots'], (c, row) => {
      if (c !== 'table') return null;
      const b = el('button', row.table);
      b.type = 'button';
      b.className = 'link';
      b.dataset.table = row.table;
      b.addEventListener('click', () => openTable(row.table).catch(shown));
      return b;
    });
  }

  async function showGold(params) {
    const page = await api('gold', params);
    $('gold-caption').textContent = page.snapshot
      ? 'gold.stats at snapshot ' + page.snapshot.snapshot + ' (' + page.snapshot.committed + ')'
      : '(gold has no snapshot yet)';
    fill($('gold-rows'), page.rows, page.columns);
  }

  async function loadGold() {
    const history = await api('snapshots', { table: 'gold.stats' }).catch(() => ({ snapshots: [] }));
    options($('gold-snapshot'), history.snapshots, '');
    await showGold({});
  }

  async function loadQuarantine() {
    const q = await api('quarantine');
    $('quarantine-caption').textContent = q.snapshot
      ? 'silver.rejected at snapshot ' + q.snapshot.snapshot + ': ' + q.scanned + ' record(s) read' + (q.complete ? '' : ' (the first ones only)')
      : '(nothing quarantined yet)';
    fill($('quarantine-reasons'), q.reasons, ['reason', 'count', 'samples'], (c, row) => {
      if (c !== 'samples') return null;
      const box = el('div');
      for (const s of row.samples) { const code = el('code', s); code.className = 'sample'; box.append(code); }
      return box;
    });
  }

  async function loadFreshness() {
    const f = await api('freshness');
    $('lake-at').textContent = f.dataDir + ' at ' + f.at;
    const kafka = f.kafka || {};
    $('freshness-caption').textContent = (f.lakeError ? 'lake: ' + f.lakeError + '. ' : '') +
      (kafka.ok ? 'Bronze lag behind Kafka per partition.' : 'Bronze lag behind Kafka: unknown (' + (kafka.error || 'not read yet') + ')');
    fill($('freshness-lag'), kafka.ok ? kafka.partitions : [], ['topic', 'partition', 'endOffset', 'bronzeNext', 'lag']);
    fill($('freshness-stages'), (f.stages || []).map((s) => ({
      stage: s.stage, outcome: s.lastRun.outcome, engine: s.lastRun.engine, started: s.lastRun.startedAt, ended: s.lastRun.endedAt,
      since_success_s: s.secondsSinceLastSuccess === null ? 'never' : s.secondsSinceLastSuccess,
      failures: s.consecutiveFailures, error: s.lastRun.error || '',
    })), ['stage', 'outcome', 'engine', 'started', 'ended', 'since_success_s', 'failures', 'error']);
  }

  const x = (lon) => ((lon - PARIS.west) / (PARIS.east - PARIS.west)) * W;
  const y = (lat) => ((PARIS.north - lat) / (PARIS.north - PARIS.south)) * H;
  const svg = (tag, attrs) => { const e = document.createElementNS(SVG, tag); for (const k in attrs) e.setAttribute(k, String(attrs[k])); return e; };
  const colour = (battery) => 'hsl(' + Math.round(Math.max(0, Math.min(100, battery)) * 1.2) + ',75%,42%)';

  function mark(v) {
    const cx = x(v.lon), cy = y(v.lat), fill = colour(v.battery);
    const common = { fill: fill, stroke: '#222', 'stroke-width': 1, class: 'vehicle' };
    let m;
    if (v.type === 'car') m = svg('rect', Object.assign({ x: cx - 6, y: cy - 6, width: 12, height: 12 }, common));
    else if (v.type === 'bike') m = svg('polygon', Object.assign({ points: cx + ',' + (cy - 7) + ' ' + (cx - 7) + ',' + (cy + 6) + ' ' + (cx + 7) + ',' + (cy + 6) }, common));
    else m = svg('circle', Object.assign({ cx: cx, cy: cy, r: 6 }, common));
    m.dataset.vehicle = v.id;
    m.dataset.type = v.type;
    const title = svg('title', {});
    title.textContent = v.id + ' (' + v.type + '), battery ' + v.battery + '%, ' + v.at;
    m.append(title);
    return m;
  }

  function basemap(root) {
    root.append(svg('rect', { x: 0, y: 0, width: W, height: H, fill: '#eef3ea' }));
    // The boulevard périphérique, roughly, and the Seine from Bercy to the Pont du Garigliano.
    const ring = [[48.9, 2.32], [48.9, 2.39], [48.885, 2.41], [48.86, 2.415], [48.835, 2.41], [48.82, 2.37], [48.816, 2.34], [48.822, 2.3], [48.832, 2.265], [48.85, 2.255], [48.875, 2.26], [48.89, 2.285]];
    root.append(svg('polygon', { points: ring.map((p) => x(p[1]) + ',' + y(p[0])).join(' '), fill: '#f8f6ef', stroke: '#9aa38f', 'stroke-width': 2 }));
    const seine = [[48.829, 2.39], [48.842, 2.37], [48.853, 2.355], [48.858, 2.34], [48.862, 2.32], [48.863, 2.3], [48.855, 2.285], [48.84, 2.275], [48.835, 2.265]];
    root.append(svg('polyline', { points: seine.map((p) => x(p[1]) + ',' + y(p[0])).join(' '), fill: 'none', stroke: '#6ea8d8', 'stroke-width': 6, 'stroke-linecap': 'round' }));
  }

  async function loadMap() {
    const p = await api('positions');
    const root = $('map-svg');
    root.replaceChildren();
    basemap(root);
    const marks = svg('g', { id: 'vehicles' });
    for (const v of p.vehicles) marks.append(mark(v));
    root.append(marks);
    $('map-caption').textContent = p.snapshot
      ? p.vehicles.length + ' vehicle(s) from silver.vehicles at snapshot ' + p.snapshot.snapshot + (p.complete ? '' : ' (from its first ' + p.scanned + ' rows)')
      : '(silver has no snapshot yet)';
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('rows-prev').addEventListener('click', () => { detail.offset = Math.max(0, detail.offset - PAGE); showRows().catch(shown); });
    $('rows-next').addEventListener('click', () => { detail.offset += PAGE; showRows().catch(shown); });
    $('table-snapshot').addEventListener('change', () => { detail.offset = 0; showRows().catch(shown); });
    $('gold-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const asOf = $('gold-as-of').value;
      const params = asOf ? { asOf: new Date(asOf).toISOString() } : $('gold-snapshot').value ? { snapshot: $('gold-snapshot').value } : {};
      showGold(params).catch(shown);
    });
    $('gold-snapshot').addEventListener('change', () => { $('gold-as-of').value = ''; showGold($('gold-snapshot').value ? { snapshot: $('gold-snapshot').value } : {}).catch(shown); });
    Promise.all([loadTables(), loadGold(), loadQuarantine(), loadFreshness(), loadMap()])
      .then(() => document.body.setAttribute('data-loaded', 'true'))
      .catch((error) => { shown(error); document.body.setAttribute('data-loaded', 'error'); });
  });
})();
`;
