/**
 * `explore`: a long-running, read-only web page of the lake on LAKEHOUSE_EXPLORER_PORT (page.ts),
 * and the JSON it reads (explorer-data.ts; freshness as `status --json` gives it, from a
 * LakeMonitor as the metrics exporter keeps it). Safe by construction: GET and HEAD only (others
 * 405), a fixed set of paths (no file is ever looked up by a request's path), a Content-Security-
 * Policy that lets the page load only its own script and style and fetch only from itself, values
 * from the lake sent as JSON that the page shows as text, and pages of rows rather than tables.
 * SIGTERM is its normal stop.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.ts';
import { ConfigError } from '../errors.ts';
import type { JobContext } from '../job.ts';
import { lakeOf } from '../lake/lake.ts';
import type { Logger } from '../log.ts';
import { LakeMonitor } from '../ops/lake-monitor.ts';
import { statusJson } from '../ops/status.ts';
import { ExplorerData } from './explorer-data.ts';
import { APP_CSS, APP_JS, FAVICON_SVG, INDEX_HTML } from './page.ts';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

const assets: Record<string, { type: string; body: string }> = {
  '/': { type: 'text/html; charset=utf-8', body: INDEX_HTML },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: APP_JS },
  '/app.css': { type: 'text/css; charset=utf-8', body: APP_CSS },
  '/favicon.svg': { type: 'image/svg+xml', body: FAVICON_SVG },
  '/healthz': { type: 'text/plain; charset=utf-8', body: 'ok\n' },
};

type Endpoint = (query: URLSearchParams) => Promise<unknown>;

export interface ExplorerSummary {
  readonly port: number;
  readonly requests: number;
}

export interface Explorer {
  readonly port: number;
  requests(): number;
  close(): Promise<void>;
}

/** Serves the explorer on `port` (0: any free port) until closed. */
export async function startExplorer(config: Config, logger: Logger, port: number): Promise<Explorer> {
  const data = new ExplorerData(lakeOf(config));
  const monitor = new LakeMonitor(config, logger);
  const endpoints: Record<string, Endpoint> = {
    '/api/tables': () => data.tables(),
    '/api/snapshots': (q) => data.snapshots(q),
    '/api/rows': (q) => data.rows(q),
    '/api/gold': (q) => data.gold(q),
    '/api/quarantine': () => data.quarantine(),
    '/api/positions': () => data.positions(),
    '/api/freshness': async () => statusJson(await monitor.report()),
  };
  let requests = 0;
  const server = http.createServer((request, response) => {
    requests++;
    const send = (status: number, type: string, body: string, extra: Record<string, string> = {}) =>
      response
        .writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra })
        .end(request.method === 'HEAD' ? undefined : body);
    const json = (status: number, value: unknown) =>
      send(status, 'application/json; charset=utf-8', JSON.stringify(value));
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(405, 'text/plain; charset=utf-8', 'method not allowed: the explorer is read-only\n', { allow: 'GET, HEAD' });
      return;
    }
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://explorer');
    } catch {
      send(400, 'text/plain; charset=utf-8', 'bad request\n');
      return;
    }
    const asset = assets[url.pathname];
    if (asset) {
      send(200, asset.type, asset.body);
      return;
    }
    const endpoint = endpoints[url.pathname];
    if (!endpoint) {
      send(404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    endpoint(url.searchParams).then(
      (value) => json(200, value),
      (error: Error) => {
        if (error instanceof ConfigError) json(400, { error: error.message });
        else {
          logger.warn('an explorer request failed', { path: url.pathname, error: error.message });
          json(500, { error: error.message });
        }
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  monitor.start();
  return {
    port: (server.address() as AddressInfo).port,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        monitor.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function runExplore(config: Config, logger: Logger, context: JobContext): Promise<ExplorerSummary> {
  const explorer = await startExplorer(config, logger, config.explorerPort);
  logger.info('serving the explorer', { port: explorer.port, url: `http://localhost:${explorer.port}/` });
  await new Promise<void>((resolve) => context.onStop(() => void explorer.close().then(resolve)));
  return { port: explorer.port, requests: explorer.requests() };
}
